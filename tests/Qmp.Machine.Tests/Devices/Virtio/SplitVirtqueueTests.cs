using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Tests.Devices.Pci;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class SplitVirtqueueTests : IDisposable
{
    private const ulong Buffers = 0x20000;
    private const ulong IndirectTable = 0x30000;

    private readonly PciTestBoard _pci = new();
    private readonly VirtioRngPci _rng = new();
    private readonly VirtioTestDriver _driver;

    public SplitVirtqueueTests()
    {
        _pci.Host.Plug(_rng, 3);
        _pci.Host.SetPirqRoute(2, 11);
        _driver = new VirtioTestDriver(_pci, 3);
        _driver.Start();
    }

    public void Dispose() => _pci.Dispose();

    public static TheoryData<string, string> MalformedRings => new()
    {
        { "loop", "Looped descriptor" },
        { "next out of bounds", "Desc next is 8" },
        { "buffer outside ram", "virtio: bogus descriptor or out of resources" },
        { "buffer over device registers", "virtio: bogus descriptor or out of resources" },
        { "zero length", "virtio: zero sized buffers are not allowed" },
        { "readable after writable", "Incorrect order for descriptors" },
        { "head out of bounds", "Guest says index 9 is available" },
        { "avail index jump", "Guest moved avail index from 0 to 9" },
        { "indirect table size", "Invalid size for indirect buffer table" },
        { "indirect table outside ram", "Cannot map indirect buffer" },
        { "nested indirect", "Nested indirect descriptor" },
        { "indirect loop", "Looped descriptor" },
    };

    [Theory]
    [MemberData(nameof(MalformedRings))]
    public void Malformed_ring_needs_a_reset_and_throws_nothing(string defect, string error)
    {
        var head = (ushort)0;
        switch (defect)
        {
            case "loop":
                _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 1);
                _driver.WriteDescriptor(1, Buffers, 4, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 0);
                break;
            case "next out of bounds":
                _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 8);
                break;
            case "buffer outside ram":
                _driver.WriteDescriptor(0, PciTestBoard.RamSize - 2, 4, VirtioTestDriver.Write);
                break;
            case "buffer over device registers":
                _driver.WriteDescriptor(0, VirtioTestDriver.BarAddress, 4, VirtioTestDriver.Write);
                break;
            case "zero length":
                _driver.WriteDescriptor(0, Buffers, 0, VirtioTestDriver.Write);
                break;
            case "readable after writable":
                _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 1);
                _driver.WriteDescriptor(1, Buffers, 4);
                break;
            case "head out of bounds":
                head = 9;
                break;
            case "avail index jump":
                _driver.SetAvailIndex(9);
                break;
            case "indirect table size":
                _driver.WriteDescriptor(0, IndirectTable, 24, VirtioTestDriver.Indirect);
                break;
            case "indirect table outside ram":
                _driver.WriteDescriptor(0, 0xF000_0000, 32, VirtioTestDriver.Indirect);
                break;
            case "nested indirect":
                _driver.WriteDescriptor(IndirectTable, 0, IndirectTable + 0x100, 16, VirtioTestDriver.Indirect);
                _driver.WriteDescriptor(0, IndirectTable, 16, VirtioTestDriver.Indirect);
                break;
            case "indirect loop":
                _driver.WriteDescriptor(IndirectTable, 0, Buffers, 4, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 1);
                _driver.WriteDescriptor(IndirectTable, 1, Buffers, 4, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 0);
                _driver.WriteDescriptor(0, IndirectTable, 32, VirtioTestDriver.Indirect);
                break;
        }
        if (defect != "avail index jump")
            _driver.MakeAvailable(head);

        _driver.Notify(0);

        Assert.Equal(error, _rng.Backend.LastError);
        Assert.True(_rng.Backend.Broken);
        Assert.Equal(VirtioTestDriver.NeedsReset, _driver.Status & VirtioTestDriver.NeedsReset);
        Assert.Equal(0, _driver.UsedIndex);
        Assert.Equal(3, _driver.ReadIsr());
    }

    [Fact]
    public void Broken_device_ignores_notifications_until_the_driver_resets_it()
    {
        _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 0);
        _driver.MakeAvailable(0);
        _driver.Notify(0);
        Assert.True(_rng.Backend.Broken);
        _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write);
        _driver.MakeAvailable(0);
        _driver.Notify(0);
        Assert.Equal(0, _driver.UsedIndex);

        _driver.Start();
        Assert.False(_rng.Backend.Broken);
        Assert.Null(_rng.Backend.LastError);
        _driver.MakeAvailable(0);
        _driver.Notify(0);
        Assert.Equal(1, _driver.UsedIndex);
    }

    [Fact]
    public void Indirect_descriptor_without_the_feature_is_a_device_error()
    {
        _driver.Start(VirtioTestDriver.VersionOne);
        _driver.WriteDescriptor(IndirectTable, 0, Buffers, 4, VirtioTestDriver.Write);
        _driver.WriteDescriptor(0, IndirectTable, 16, VirtioTestDriver.Indirect);
        _driver.MakeAvailable(0);
        _driver.Notify(0);
        Assert.Equal("Indirect descriptor without VIRTIO_F_INDIRECT_DESC", _rng.Backend.LastError);
    }

    [Fact]
    public void Popping_more_than_the_queue_holds_without_pushing_is_a_device_error()
    {
        var queue = _rng.Backend.Queues[0];
        _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write);
        for (var i = 0; i < 8; i++)
            _driver.MakeAvailable(0);
        var popped = new List<VirtqueueElement>();
        while (queue.Pop() is { } element)
            popped.Add(element);
        Assert.Equal(8, popped.Count);
        Assert.False(_rng.Backend.Broken);
        _driver.MakeAvailable(0);
        Assert.Null(queue.Pop());
        Assert.Equal("Virtqueue size exceeded", _rng.Backend.LastError);
    }

    [Fact]
    public void Element_completed_after_a_reset_is_dropped()
    {
        var queue = _rng.Backend.Queues[0];
        _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write);
        _driver.MakeAvailable(0);
        var element = queue.Pop()!;
        _driver.Start();
        _rng.Backend.Complete(queue, element, 4);
        Assert.Equal(0, _driver.UsedIndex);
        Assert.Equal(0, queue.InFlight);
        Assert.Throws<InvalidOperationException>(() => queue.Push(element, 4));
    }

    [Fact]
    public void Element_can_complete_later_on_the_machine_thread()
    {
        var queue = _rng.Backend.Queues[0];
        _driver.WriteDescriptor(0, Buffers, 4, VirtioTestDriver.Write | VirtioTestDriver.Next, next: 1);
        _driver.WriteDescriptor(1, Buffers + 0x10, 4, VirtioTestDriver.Write);
        _driver.MakeAvailable(0);
        var element = queue.Pop()!;
        Assert.Equal(1, queue.InFlight);
        Assert.Equal([new VirtqueueBuffer(Buffers, 4), new VirtqueueBuffer(Buffers + 0x10, 4)], element.Writable);
        Assert.Equal(6, element.Write(1, [1, 2, 3, 4, 5, 6]));
        _rng.Backend.Complete(queue, element, 100);
        Assert.Equal((0u, 8u), _driver.UsedElement(0));
        Assert.Equal([0, 1, 2, 3], _driver.ReadGuest(Buffers, 4));
        Assert.Equal([4, 5, 6, 0], _driver.ReadGuest(Buffers + 0x10, 4));
        Assert.Equal(1, _driver.ReadIsr());
    }
}
