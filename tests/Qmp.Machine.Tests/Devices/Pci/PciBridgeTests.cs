using Qmp.Machine.Devices.Pci;
using static Qmp.Machine.Tests.Devices.Pci.PcieTestRig;

namespace Qmp.Machine.Tests.Devices.Pci;

/// <summary>The type-1 header of the root port: bus numbers, configuration forwarding, windows and INTx.</summary>
public sealed class PciBridgeTests : IDisposable
{
    private readonly PcieTestRig _rig = new();

    public void Dispose() => _rig.Dispose();

    [Fact]
    public void Reset_state_closes_every_window_as_qemu_reports_it()
    {
        var info = _rig.Pci.Host.QueryPci().Devices.Single(d => d.QdevId == "rp1");
        Assert.Equal(new PciDeviceId(0x1B36, 0x000C, null, null), info.Id);
        Assert.Equal(new PciDeviceClass(0x0604, "PCI bridge"), info.ClassInfo);
        Assert.Equal(1, info.IrqPin);
        Assert.Empty(info.Regions);
        var bridge = info.PciBridge!;
        Assert.Null(bridge.Devices);
        Assert.Equal(
            new PciBusInfo(0, 0, 0, new PciMemoryRange(0xF000, 0x0FFF), new PciMemoryRange(0xFFF00000, 0xFFFFF), new PciMemoryRange(0xFFF00000, 0xFFFFF)),
            bridge.Bus);
        // The prefetchable window decodes 64 bits; the I/O window 16.
        Assert.Equal(0xFFF1u, _rig.PortRead(0x24, 2));
        Assert.Equal(0xF0u, _rig.PortRead(0x1C, 1));
        Assert.Null(_rig.Pci.Host.QueryPci().Devices[0].PciBridge);
    }

    [Fact]
    public void Bus_numbers_and_windows_are_writable_and_type_bits_are_not()
    {
        _rig.PortWrite(0x18, 4, 0x00_03_02_01);
        Assert.Equal(0x030201u, _rig.PortRead(0x18, 4) & 0xFFFFFF);
        _rig.PortWrite(0x1C, 2, 0xFFFF);
        Assert.Equal(0xF0F0u, _rig.PortRead(0x1C, 2));
        _rig.PortWrite(0x24, 4, 0xFFFFFFFF);
        Assert.Equal(0xFFF1FFF1u, _rig.PortRead(0x24, 4));
        _rig.PortWrite(0x3E, 2, 0xFFFF);
        Assert.Equal(0x0BFFu, _rig.PortRead(0x3E, 2));
    }

    [Fact]
    public void Configuration_cycles_reach_the_device_only_on_the_secondary_bus_number()
    {
        _rig.HotPlug(new TestPciDevice(), hotplugged: false);
        Assert.Equal(0xFFFFFFFFu, _rig.Read(1, 0, 0, 0, 4));
        _rig.NumberBus(secondary: 3);
        Assert.Equal(0x11E81234u, _rig.Read(3, 0, 0, 0, 4));
        Assert.Equal(0xFFFFFFFFu, _rig.Read(1, 0, 0, 0, 4));
        Assert.Equal(0xFFFFFFFFu, _rig.Read(4, 0, 0, 0, 4));
        // A PCI Express port reaches device 0 only.
        Assert.Equal(0xFFFFFFFFu, _rig.Read(3, 1, 0, 0, 4));
        _rig.Write(3, 0, 0, 0x3C, 1, 0x5A);
        Assert.Equal(0x5Au, _rig.Read(3, 0, 0, 0x3C, 1));
        // Bus numbers behind a second port stay apart.
        var rp2 = new PcieRootPort { Id = "rp2", Chassis = 2 };
        _rig.Pci.Host.Plug(rp2, 3);
        rp2.HostConfigWrite(0x19, 1, 4);
        rp2.HostConfigWrite(0x1A, 1, 4);
        Assert.Equal(0xFFFFFFFFu, _rig.Read(4, 0, 0, 0, 4));
        Assert.Equal(0x11E81234u, _rig.Read(3, 0, 0, 0, 4));
    }

    [Fact]
    public void Memory_bar_behind_the_bridge_is_visible_only_inside_an_enabled_window()
    {
        var device = _rig.HotPlug(new TestPciDevice { Bars = [(1, 0x1000, PciBarType.Memory)] }, hotplugged: false);
        _rig.NumberBus();
        _rig.Write(1, 0, 0, 0x14, 4, 0xFE101000);
        _rig.Write(1, 0, 0, 0x04, 2, 0x0002);
        Assert.Null(_rig.Pci.Memory.Find(0xFE101000));
        // Window 0xFE100000-0xFE1FFFFF, then memory decoding on the bridge.
        _rig.PortWrite(0x20, 2, 0xFE10);
        _rig.PortWrite(0x22, 2, 0xFE10);
        Assert.Null(_rig.Pci.Memory.Find(0xFE101000));
        _rig.PortWrite(0x04, 2, 0x0002);
        Assert.Equal("test-bar1", _rig.Pci.Memory.Find(0xFE101000)?.Region.Name);
        // The BAR reports its address whether or not the bridge forwards it (as QEMU's query-pci).
        Assert.Equal(0xFE101000, DeviceInfo().Regions.Single().Address);
        _rig.PortWrite(0x20, 2, 0xFE20);
        _rig.PortWrite(0x22, 2, 0xFE20);
        Assert.Null(_rig.Pci.Memory.Find(0xFE101000));
        _rig.PortWrite(0x20, 2, 0xFE00);
        Assert.Equal("test-bar1", _rig.Pci.Memory.Find(0xFE101000)?.Region.Name);
        _rig.PortWrite(0x04, 2, 0);
        Assert.Null(_rig.Pci.Memory.Find(0xFE101000));
        Assert.True(device.Realized);
    }

    [Fact]
    public void Prefetchable_64_bit_bar_goes_through_the_prefetchable_window()
    {
        _rig.HotPlug(new TestPciDevice { Bars = [(2, 0x4000, PciBarType.Memory64 | PciBarType.Prefetchable)] }, hotplugged: false);
        _rig.NumberBus();
        _rig.Write(1, 0, 0, 0x18, 4, 0xFD004000);
        _rig.Write(1, 0, 0, 0x1C, 4, 0);
        _rig.Write(1, 0, 0, 0x04, 2, 0x0002);
        _rig.PortWrite(0x04, 2, 0x0002);
        Assert.Null(_rig.Pci.Memory.Find(0xFD004000));
        _rig.PortWrite(0x24, 2, 0xFD00);
        _rig.PortWrite(0x26, 2, 0xFD00);
        Assert.Equal("test-bar2", _rig.Pci.Memory.Find(0xFD004000)?.Region.Name);
        var bridge = BridgeInfo();
        Assert.Equal(new PciMemoryRange(0xFD000000, 0xFD0FFFFF), bridge.Bus.PrefetchableRange);
    }

    [Fact]
    public void Io_bar_behind_the_bridge_needs_io_decoding_and_the_io_window()
    {
        _rig.HotPlug(new TestPciDevice { Bars = [(0, 0x20, PciBarType.Io)] }, hotplugged: false);
        _rig.NumberBus();
        _rig.Write(1, 0, 0, 0x10, 4, 0xC040);
        _rig.Write(1, 0, 0, 0x04, 2, 0x0001);
        Assert.Null(_rig.Pci.Io.Find(0xC040));
        _rig.PortWrite(0x1C, 1, 0xC0);
        _rig.PortWrite(0x1D, 1, 0xC0);
        _rig.PortWrite(0x04, 2, 0x0001);
        Assert.Equal("test-bar0", _rig.Pci.Io.Find(0xC040)?.Name);
        Assert.Equal(new PciMemoryRange(0xC000, 0xCFFF), BridgeInfo().Bus.IoRange);
        // Cutting slot power hides (and resets) the device.
        _rig.Control = PowerOff | PwrOn | AttnOff;
        Assert.Null(_rig.Pci.Io.Find(0xC040));
    }

    [Fact]
    public void Interrupts_behind_the_bridge_swizzle_onto_the_bridges_pins()
    {
        var device = _rig.HotPlug(new TestPciDevice { Pin = 2 }, hotplugged: false);
        // Pin B of device 0 is the bridge's pin B; the bridge at slot 2 drives PIRQ (1 + 2 - 1) mod 4 = C.
        device.Raise();
        Assert.True(_rig.Pci.Host.PirqLevel(2));
        Assert.False(_rig.Pci.Host.PirqLevel(1));
        // The bridge's own interrupt status does not change.
        Assert.Equal(0u, _rig.PortRead(0x06, 1) & 0x08);
        device.Lower();
        Assert.False(_rig.Pci.Host.PirqLevel(2));
    }

    [Fact]
    public void Query_lists_the_functions_behind_once_the_bus_is_numbered()
    {
        _rig.HotPlug(new TestPciDevice { Id = "t0" }, hotplugged: false);
        Assert.Null(BridgeInfo().Devices);
        _rig.NumberBus();
        var behind = Assert.Single(BridgeInfo().Devices!);
        Assert.Equal((1, 0, 0, "t0"), (behind.Bus, behind.Slot, behind.Function, behind.QdevId));
        Assert.Equal(new PciBusInfo(0, 1, 1, new PciMemoryRange(0xF000, 0x0FFF), new PciMemoryRange(0xFFF00000, 0xFFFFF), new PciMemoryRange(0xFFF00000, 0xFFFFF)), BridgeInfo().Bus);
    }

    [Fact]
    public void Empty_numbered_bridge_lists_no_devices()
    {
        _rig.NumberBus();
        Assert.Empty(BridgeInfo().Devices!);
    }

    [Fact]
    public void Secondary_bus_reset_resets_the_functions_behind()
    {
        var device = _rig.HotPlug(new TestPciDevice(), hotplugged: false);
        var resets = device.Resets;
        _rig.PortWrite(0x3E, 2, 0x0040);
        Assert.Equal(resets + 1, device.Resets);
        _rig.PortWrite(0x3E, 2, 0x0040);
        Assert.Equal(resets + 1, device.Resets);
    }

    [Fact]
    public void Firmware_numbers_the_bus_and_routes_the_interrupt_line_through_the_swizzle()
    {
        var device = _rig.HotPlug(new TestPciDevice(), hotplugged: false);
        _rig.Pci.Host.ApplyFirmwareIrqRouting();
        Assert.Equal((0, 1, 1), (_rig.Port.PrimaryBusNumber, _rig.Port.SecondaryBusNumber, _rig.Port.SubordinateBusNumber));
        // As SeaBIOS on QEMU's pc: the port at slot 2 and the disk behind it both on IRQ 10.
        Assert.Equal(10u, _rig.PortRead(0x3C, 1));
        Assert.Equal(10u, _rig.Read(1, 0, 0, 0x3C, 1));
        Assert.Equal("0000:00:02.0:00.0/test-pci", device.SectionName);
    }

    private PciBridgeInfo BridgeInfo() => _rig.Pci.Host.QueryPci().Devices.Single(d => d.QdevId == "rp1").PciBridge!;

    private PciDeviceInfo DeviceInfo() => BridgeInfo().Devices!.Single();
}
