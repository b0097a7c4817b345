using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Tests.Devices.Pci;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class VirtioStateTests : IDisposable
{
    private const ulong Buffers = 0x20000;

    private readonly PciTestBoard _source = new();
    private readonly PciTestBoard _target = new();
    private readonly VirtioRngPci _from = new();
    private readonly VirtioRngPci _to = new();

    public VirtioStateTests()
    {
        _source.Host.Plug(_from, 3);
        _target.Host.Plug(_to, 3);
        _source.Host.SetPirqRoute(2, 11);
        _target.Host.SetPirqRoute(2, 11);
    }

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }

    [Fact]
    public void Transport_and_queue_state_round_trip_and_the_ring_carries_on()
    {
        var driver = new VirtioTestDriver(_source, 3);
        driver.Start(VirtioTestDriver.VersionOne | VirtioTestDriver.EventIdx, size: 4);
        driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write);
        driver.MakeAvailable(0);
        driver.Notify(0);
        driver.WriteCommon(0x16, 2, 0);
        Assert.Equal("0000:00:03.0/virtio-rng", _from.SectionName);

        // Guest RAM migrates separately; copy it, then the device state.
        var ram = new byte[PciTestBoard.RamSize];
        _source.Memory.Read(0, ram);
        _target.Memory.Write(0, ram);
        TestBoard.CopyState(_from, _to);

        Assert.Equal(driver.Status, _to.Backend.Status);
        Assert.Equal(_from.Backend.NegotiatedFeatures, _to.Backend.NegotiatedFeatures);
        Assert.True(_to.Backend.Queues[0].Enabled);
        Assert.Equal((ushort)4, _to.Backend.Queues[0].Size);
        Assert.True(_target.Board.Irq(11).Level);
        Assert.Equal(VirtioTestDriver.BarAddress, _target.Memory.Find(VirtioTestDriver.BarAddress)!.Start);

        // The target continues where the source stopped: the next request lands at used index 1.
        var resumed = new VirtioTestDriver(_target, 3);
        Assert.Equal(1, resumed.ReadIsr());
        resumed.WriteDescriptor(1, Buffers + 0x100, 4, VirtioTestDriver.Write);
        resumed.Resume(size: 4, availIndex: 1);
        resumed.MakeAvailable(1);
        resumed.Notify(0);
        Assert.Equal(2, resumed.UsedIndex);
        Assert.Equal((1u, 4u), resumed.UsedElement(1));
    }

    [Fact]
    public void Queue_state_with_rings_outside_ram_is_refused()
    {
        var driver = new VirtioTestDriver(_source, 3);
        driver.Start();
        using var target = new PciTestBoard();
        var to = new VirtioRngPci();
        target.Host.Plug(to, 3);
        target.Memory.Unmap(target.Memory.Find(0)!.Region);
        var e = Assert.Throws<InvalidDataException>(() => TestBoard.CopyState(_from, to));
        Assert.Contains("Cannot map desc", e.Message);
        Assert.False(to.Backend.Queues[0].Enabled);
    }
}
