using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Tests.Devices.Pci;

namespace Qmp.Machine.Tests.Devices.Virtio;

public sealed class VirtioTransportTests : IDisposable
{
    private readonly PciTestBoard _pci = new();
    private readonly VirtioRngPci _rng = new();
    private readonly VirtioTestDriver _driver;

    public VirtioTransportTests()
    {
        _pci.Host.Plug(_rng, 3);
        _pci.Host.SetPirqRoute(2, 11);
        _driver = new VirtioTestDriver(_pci, 3);
    }

    public void Dispose() => _pci.Dispose();

    [Fact]
    public void Identity_is_a_modern_virtio_function_with_inta()
    {
        Assert.Equal(0x10441AF4u, _pci.ConfigRead(3, 0, 0x00, 4));
        Assert.Equal(0x00FF0001u, _pci.ConfigRead(3, 0, 0x08, 4));
        Assert.Equal(0x0100u, _pci.ConfigRead(3, 0, 0x3C, 2));
        Assert.Equal(0x11001AF4u, _pci.ConfigRead(3, 0, 0x2C, 4));
    }

    [Fact]
    public void Capabilities_describe_qemus_layout_of_bar_4()
    {
        Assert.Equal(
            [
                new VirtioCapability(0x84, 5, 20, 0, 0, 0, 0),
                new VirtioCapability(0x70, 2, 20, 4, 0x3000, 0x1000, 4),
                new VirtioCapability(0x60, 4, 16, 4, 0x2000, 0x1000, 0),
                new VirtioCapability(0x50, 3, 16, 4, 0x1000, 0x1000, 0),
                new VirtioCapability(0x40, 1, 16, 4, 0x0000, 0x1000, 0),
            ],
            _driver.Capabilities);
        _pci.SetCommand(3, 0);
        Assert.Equal(0xFFFFC00Cu, _pci.SizeBar(3, 4));
        Assert.Equal(0xFFFFFFFFu, _pci.SizeBar(3, 5));
    }

    [Fact]
    public void Device_features_offer_version_1_and_the_ring_features()
    {
        Assert.Equal(VirtioTestDriver.VersionOne | VirtioTestDriver.IndirectDesc | VirtioTestDriver.EventIdx, _driver.DeviceFeatures);
        _driver.WriteCommon(0x00, 4, 2);
        Assert.Equal(0u, _driver.ReadCommon(0x04, 4));
    }

    [Fact]
    public void Ring_features_can_be_switched_off_like_qemus_properties()
    {
        using var pci = new PciTestBoard();
        pci.Host.Plug(new VirtioRngPci { IndirectDescriptors = false, EventIndex = false }, 3);
        Assert.Equal(VirtioTestDriver.VersionOne, new VirtioTestDriver(pci, 3).DeviceFeatures);
    }

    [Fact]
    public void Features_ok_sticks_when_the_driver_accepts_version_1()
    {
        Assert.True(_driver.Negotiate(VirtioTestDriver.VersionOne | VirtioTestDriver.EventIdx));
        Assert.Equal(VirtioTestDriver.VersionOne | VirtioTestDriver.EventIdx, _rng.Backend.NegotiatedFeatures);
        _driver.WriteCommon(0x08, 4, 0);
        Assert.Equal((uint)VirtioTestDriver.EventIdx, _driver.ReadCommon(0x0C, 4));
    }

    [Fact]
    public void Features_ok_is_refused_without_version_1()
    {
        Assert.False(_driver.Negotiate(VirtioTestDriver.IndirectDesc));
        Assert.Equal(VirtioTestDriver.Acknowledge | VirtioTestDriver.Driver, _driver.Status);
        Assert.Equal(0UL, _rng.Backend.NegotiatedFeatures);
    }

    [Fact]
    public void Features_ok_is_refused_for_features_not_offered()
    {
        Assert.False(_driver.Negotiate(VirtioTestDriver.VersionOne | (1UL << 5)));
    }

    [Fact]
    public void Features_cannot_change_after_features_ok()
    {
        Assert.True(_driver.Negotiate(VirtioTestDriver.VersionOne));
        _driver.WriteDriverFeatures(VirtioTestDriver.VersionOne | VirtioTestDriver.IndirectDesc);
        _driver.Status = VirtioTestDriver.Acknowledge | VirtioTestDriver.Driver | VirtioTestDriver.FeaturesOk | VirtioTestDriver.DriverOk;
        Assert.Equal(VirtioTestDriver.VersionOne, _rng.Backend.NegotiatedFeatures);
    }

    [Fact]
    public void Msix_vectors_read_no_vector_and_ignore_writes()
    {
        _driver.WriteCommon(0x10, 2, 0);
        _driver.WriteCommon(0x1A, 2, 1);
        Assert.Equal(0xFFFFu, _driver.ReadCommon(0x10, 2));
        Assert.Equal(0xFFFFu, _driver.ReadCommon(0x1A, 2));
    }

    [Fact]
    public void Queue_registers_follow_queue_select()
    {
        Assert.Equal(1u, _driver.ReadCommon(0x12, 2));
        Assert.Equal(8u, _driver.ReadCommon(0x18, 2));
        _driver.WriteCommon(0x16, 2, 5);
        Assert.Equal(5u, _driver.ReadCommon(0x16, 2));
        Assert.Equal(0u, _driver.ReadCommon(0x18, 2));
        Assert.Equal(5u, _driver.ReadCommon(0x1E, 2));
        _driver.WriteCommon(0x16, 2, 0);
        _driver.WriteCommon(0x18, 2, 4);
        _driver.WriteCommon(0x20, 4, 0x10000);
        _driver.WriteCommon(0x24, 4, 0x1);
        Assert.Equal(4u, _driver.ReadCommon(0x18, 2));
        Assert.Equal(0x1_0001_0000UL, _rng.Backend.Queues[0].DescriptorArea);
        Assert.Equal(0x1u, _driver.ReadCommon(0x24, 4));
        Assert.Equal(0u, _driver.ReadCommon(0x1C, 2));
    }

    [Fact]
    public void Enabled_queue_uses_the_rings_the_driver_set()
    {
        _driver.Start(size: 4);
        var queue = _rng.Backend.Queues[0];
        Assert.True(queue.Enabled);
        Assert.Equal((ushort)4, queue.Size);
        Assert.Equal(VirtioTestDriver.AvailRing, queue.DriverArea);
        Assert.Equal(VirtioTestDriver.UsedRing, queue.DeviceArea);
        Assert.Equal(1u, _driver.ReadCommon(0x1C, 2));
        // Registers of an enabled queue do not move under the device.
        _driver.WriteCommon(0x18, 2, 2);
        Assert.Equal(4u, _driver.ReadCommon(0x18, 2));
    }

    [Fact]
    public void Writing_zero_to_device_status_resets_queues_and_features()
    {
        _driver.Start();
        _driver.Status = 0;
        Assert.Equal(0, _driver.Status);
        var queue = _rng.Backend.Queues[0];
        Assert.False(queue.Enabled);
        Assert.Equal(0UL, queue.DescriptorArea);
        Assert.Equal(8u, _driver.ReadCommon(0x18, 2));
        Assert.Equal(0UL, _rng.Backend.NegotiatedFeatures);
        Assert.Equal(0u, _driver.ReadCommon(0x0C, 4));
    }

    [Fact]
    public void Rings_outside_ram_make_the_device_need_a_reset()
    {
        Assert.True(_driver.Negotiate(VirtioTestDriver.VersionOne));
        _driver.SetupQueue(0, 8, descriptors: 0xF000_0000);
        Assert.False(_rng.Backend.Queues[0].Enabled);
        Assert.Equal(VirtioTestDriver.NeedsReset, _driver.Status & VirtioTestDriver.NeedsReset);
        Assert.Equal("Cannot map desc", _rng.Backend.LastError);
        _driver.Status = 0;
        Assert.Equal(0, _driver.Status);
    }

    [Fact]
    public void Queue_enable_with_a_value_other_than_1_is_a_device_error()
    {
        Assert.True(_driver.Negotiate(VirtioTestDriver.VersionOne));
        _driver.WriteCommon(0x1C, 2, 2);
        Assert.Equal(VirtioTestDriver.NeedsReset, _driver.Status & VirtioTestDriver.NeedsReset);
        Assert.Equal("wrong value for queue_enable 2", _rng.Backend.LastError);
    }

    [Fact]
    public void Device_error_after_driver_ok_raises_a_configuration_interrupt()
    {
        _driver.Start();
        var generation = _driver.ReadCommon(0x15, 1);
        _driver.WriteCommon(0x1C, 2, 0);
        Assert.True(_pci.Board.Irq(11).Level);
        Assert.Equal(3, _driver.ReadIsr());
        Assert.False(_pci.Board.Irq(11).Level);
        Assert.NotEqual(generation, _driver.ReadCommon(0x15, 1));
    }

    [Fact]
    public void Clearing_bus_mastering_clears_driver_ok()
    {
        _driver.Start();
        _pci.SetCommand(3, 0x02);
        Assert.Equal(0, _driver.Status & VirtioTestDriver.DriverOk);
        Assert.False(_rng.Backend.DriverOk);
    }

    [Fact]
    public void Device_configuration_outside_its_size_reads_all_ones()
    {
        Assert.Equal(0xFFFFFFFFUL, _pci.Memory.Read(VirtioTestDriver.BarAddress + 0x2000, 4));
        Assert.Equal(0xFFUL, _pci.Memory.Read(VirtioTestDriver.BarAddress + 0x2000, 1));
    }

    [Fact]
    public void Pci_configuration_window_reaches_the_common_configuration()
    {
        var cfg = _driver.Capability(5).At;
        _pci.ConfigWrite(3, 0, cfg + 8, 4, 0x12);
        _pci.ConfigWrite(3, 0, cfg + 12, 4, 2);
        Assert.Equal(1u, _pci.ConfigRead(3, 0, cfg + 16, 2));
        _pci.ConfigWrite(3, 0, cfg + 8, 4, 0x14);
        _pci.ConfigWrite(3, 0, cfg + 12, 4, 1);
        _pci.ConfigWrite(3, 0, cfg + 16, 1, VirtioTestDriver.Acknowledge);
        Assert.Equal(VirtioTestDriver.Acknowledge, _driver.Status);
    }

    [Fact]
    public void Pci_reset_resets_the_virtio_device()
    {
        _driver.Start();
        _pci.Host.Reset();
        Assert.Equal(0, _rng.Backend.Status);
        Assert.False(_rng.Backend.Queues[0].Enabled);
        Assert.Null(_pci.Memory.Find(VirtioTestDriver.BarAddress));
    }

    [Fact]
    public void Unplug_unmaps_the_bar_and_leaves_the_slot_free()
    {
        _driver.Start();
        _pci.Host.Unplug(_rng);
        Assert.Null(_pci.Memory.Find(VirtioTestDriver.BarAddress));
        Assert.Equal(0xFFFFFFFFu, _pci.ConfigRead(3, 0, 0x00, 4));
        Assert.Empty(_rng.Backend.Queues);
    }
}
