using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Tests.Devices.Pci;
using Qmp.Memory;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class VirtioRngTests : IDisposable
{
    private const ulong Buffers = 0x20000;
    private const ulong IndirectTable = 0x30000;

    private readonly PciTestBoard _pci = new();
    private readonly VirtioRngPci _rng = new();
    private readonly VirtioTestDriver _driver;
    private byte _next = 1;

    public VirtioRngTests()
    {
        _pci.Host.Plug(_rng, 3);
        _pci.Host.SetPirqRoute(2, 11);
        _rng.Rng.Entropy = bytes =>
        {
            for (var i = 0; i < bytes.Length; i++)
                bytes[i] = _next++;
        };
        _driver = new VirtioTestDriver(_pci, 3);
    }

    private IrqProbe Irq11 => _pci.Board.Irq(11);

    public void Dispose() => _pci.Dispose();

    [Fact]
    public void Request_fills_the_chain_with_entropy_and_interrupts_through_intx()
    {
        _driver.Start();
        _driver.WriteDescriptor(0, Buffers, 16, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 5);
        _driver.WriteDescriptor(5, Buffers + 0x100, 8, VirtioTestDriver.Write);
        _driver.MakeAvailable(0);
        _driver.Notify(0);

        Assert.Equal(1, _driver.UsedIndex);
        Assert.Equal((0u, 24u), _driver.UsedElement(0));
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (byte)i), _driver.ReadGuest(Buffers, 16));
        Assert.Equal(Enumerable.Range(17, 8).Select(i => (byte)i), _driver.ReadGuest(Buffers + 0x100, 8));
        Assert.True(Irq11.Level);
        Assert.Equal(0x08u, _pci.ConfigRead(3, 0, 0x06, 2) & 0x08);
        Assert.Equal(1, _driver.ReadIsr());
        Assert.False(Irq11.Level);
        Assert.Equal(0, _driver.ReadIsr());
        Assert.Equal(0, _rng.Backend.Queues[0].InFlight);
    }

    [Fact]
    public void Several_requests_come_back_in_order_with_one_interrupt()
    {
        _driver.Start();
        for (ushort head = 0; head < 3; head++)
        {
            _driver.WriteDescriptor(head, Buffers + (head * 0x100UL), 4, VirtioTestDriver.Write);
            _driver.MakeAvailable(head);
        }
        _driver.Notify(0);
        Assert.Equal(3, _driver.UsedIndex);
        Assert.Equal([(0u, 4u), (1u, 4u), (2u, 4u)], Enumerable.Range(0, 3).Select(_driver.UsedElement));
        Assert.Equal(1, Irq11.Rises);
    }

    [Fact]
    public void Ring_wraps_past_its_size()
    {
        _driver.Start(size: 4);
        for (var round = 0; round < 10; round++)
        {
            var head = (ushort)(round % 4);
            _driver.WriteDescriptor(head, Buffers, 2, VirtioTestDriver.Write);
            _driver.MakeAvailable(head);
            _driver.Notify(0);
        }
        Assert.Equal(10, _driver.UsedIndex);
        Assert.Equal((1u, 2u), _driver.UsedElement(9));
        Assert.False(_rng.Backend.Broken);
    }

    [Fact]
    public void Indirect_descriptors_are_followed()
    {
        _driver.Start();
        _driver.WriteDescriptor(IndirectTable, 0, Buffers, 4, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 2);
        _driver.WriteDescriptor(IndirectTable, 2, Buffers + 0x40, 6, VirtioTestDriver.Write);
        _driver.WriteDescriptor(3, IndirectTable, 3 * 16, VirtioTestDriver.Indirect);
        _driver.MakeAvailable(3);
        _driver.Notify(0);
        Assert.Equal((3u, 10u), _driver.UsedElement(0));
        Assert.Equal([1, 2, 3, 4], _driver.ReadGuest(Buffers, 4));
        Assert.Equal([5, 6, 7, 8, 9, 10], _driver.ReadGuest(Buffers + 0x40, 6));
    }

    [Fact]
    public void Device_readable_buffers_are_not_written_and_count_nothing()
    {
        _driver.Start();
        _driver.WriteDescriptor(0, Buffers, 8);
        _driver.MakeAvailable(0);
        _driver.Notify(0);
        Assert.Equal((0u, 0u), _driver.UsedElement(0));
        Assert.Equal(new byte[8], _driver.ReadGuest(Buffers, 8));
    }

    [Fact]
    public void Buffers_queued_before_driver_ok_are_served_when_it_is_set()
    {
        Assert.True(_driver.Negotiate(VirtioTestDriver.VersionOne));
        _driver.SetupQueue(0, 8);
        _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write);
        _driver.MakeAvailable(0);
        _driver.Notify(0);
        Assert.Equal(0, _driver.UsedIndex);
        _driver.Status |= VirtioTestDriver.DriverOk;
        Assert.Equal(1, _driver.UsedIndex);
        Assert.True(Irq11.Level);
    }

    [Fact]
    public void Used_ring_and_buffer_writes_mark_dirty_pages()
    {
        _driver.Start();
        _driver.WriteDescriptor(0, Buffers + 0x3000, 4, VirtioTestDriver.Write);
        _driver.MakeAvailable(0);
        _pci.Ram.Dirty.Start(DirtyClient.Migration, allDirty: false);
        _driver.Notify(0);
        Assert.True(_pci.Ram.Dirty.IsDirty(DirtyClient.Migration, (long)(VirtioTestDriver.UsedRing >> 12)));
        Assert.True(_pci.Ram.Dirty.IsDirty(DirtyClient.Migration, (long)((Buffers + 0x3000) >> 12)));
        Assert.False(_pci.Ram.Dirty.IsDirty(DirtyClient.Migration, (long)(VirtioTestDriver.DescriptorTable >> 12)));
    }

    [Fact]
    public void No_interrupt_flag_suppresses_the_interrupt_without_event_idx()
    {
        _driver.Start();
        _driver.SetAvailFlags(1);
        _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write);
        _driver.MakeAvailable(0);
        _driver.Notify(0);
        Assert.Equal(1, _driver.UsedIndex);
        Assert.False(Irq11.Level);
        Assert.Equal(0, _driver.ReadIsr());
    }

    [Fact]
    public void Used_event_decides_when_the_driver_is_interrupted_with_event_idx()
    {
        _driver.Start(VirtioTestDriver.VersionOne | VirtioTestDriver.EventIdx);
        _driver.SetUsedEvent(2);
        for (ushort head = 0; head < 3; head++)
        {
            _driver.WriteDescriptor(head, Buffers, 4, VirtioTestDriver.Write);
            _driver.MakeAvailable(head);
            _driver.Notify(0);
            // The first push always signals; then only the one that passes used_event 2 (index 3).
            Assert.Equal(head != 1, Irq11.Level);
            Assert.Equal(head + 1, _driver.AvailEvent);
            _driver.ReadIsr();
        }
    }

    [Fact]
    public void Large_buffers_get_at_most_64_kib_per_request()
    {
        _driver.Start();
        _driver.WriteDescriptor(0, Buffers, 0x30000, VirtioTestDriver.Write);
        _driver.MakeAvailable(0);
        _driver.Notify(0);
        Assert.Equal((0u, 0x10000u), _driver.UsedElement(0));
    }

    [Fact]
    public void Notify_for_a_queue_that_does_not_exist_is_ignored()
    {
        _driver.Start();
        _pci.Memory.Write(VirtioTestDriver.BarAddress + 0x3000 + (4 * 7), 2, 7);
        Assert.False(_rng.Backend.Broken);
        Assert.Equal(0, _driver.UsedIndex);
    }
}
