using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pci;
using static Qmp.Machine.Tests.Devices.Pci.PcieTestRig;

namespace Qmp.Machine.Tests.Devices.Pci;

/// <summary>The root port's identity and its PCI Express slot registers, driven through configuration cycles.</summary>
public sealed class PcieRootPortTests : IDisposable
{
    private readonly PcieTestRig _rig = new(p => p.PhysicalSlot = 5);

    public void Dispose() => _rig.Dispose();

    [Fact]
    public void Identity_is_qemus_pcie_root_port_with_a_type_1_header()
    {
        Assert.Equal(0x000C1B36u, _rig.PortRead(0x00, 4));
        Assert.Equal(0x0604u, _rig.PortRead(0x0A, 2));
        Assert.Equal(0x01u, _rig.PortRead(0x0E, 1));
        Assert.Equal(1u, _rig.PortRead(0x3D, 1));
        Assert.Equal(0x10u, _rig.PortRead(0x06, 2) & 0x10);
        var cap = (int)_rig.PortRead(0x34, 1);
        Assert.Equal(_rig.Exp, cap);
        Assert.Equal(0x10u, _rig.PortRead(cap, 1));
        // Version 2, Root Port, Slot Implemented.
        Assert.Equal(0x0142, _rig.ExpRead(0x02));
    }

    [Fact]
    public void Slot_and_link_capabilities_describe_a_native_hotplug_slot()
    {
        var slotCap = _rig.ExpRead32(SlotCapabilities);
        // ABP, PCP, AIP, PIP, HPC, EIP present; MRL sensor, surprise and No Command Completed absent.
        Assert.Equal(0x1u | 0x2 | 0x8 | 0x10 | 0x40 | 0x20000, slotCap & 0x7FFFF);
        Assert.Equal(5u, slotCap >> 19);
        var linkCap = _rig.ExpRead32(LinkCapabilities);
        Assert.Equal(0x00100000u, linkCap & 0x00100000);
        Assert.Equal(0x11u, linkCap & 0x3FF);
    }

    [Fact]
    public void Port_number_goes_in_link_capabilities_and_hotplug_off_clears_hotplug_capable()
    {
        using var rig = new PcieTestRig(p =>
        {
            p.Chassis = 2;
            p.Port = 7;
            p.Hotplug = false;
        });
        Assert.Equal(7u, rig.ExpRead32(LinkCapabilities) >> 24);
        Assert.Equal(0u, rig.ExpRead32(SlotCapabilities) & 0x60);
        Assert.False(rig.Port.SecondaryBus.Hotpluggable);
        Assert.True(_rig.Port.SecondaryBus.Hotpluggable);
    }

    [Fact]
    public void Empty_slot_is_unpowered_with_indicators_off_and_link_down()
    {
        Assert.Equal(PowerOff | PwrOff | AttnOff, _rig.Control);
        Assert.Equal(0, _rig.Status);
        Assert.Equal(0, _rig.ExpRead(LinkStatus) & Dllla);
    }

    [Fact]
    public void Every_slot_control_write_completes_a_command_and_the_event_is_write_one_to_clear()
    {
        _rig.Control = PowerOff | PwrOff | AttnOff | Ccie;
        Assert.Equal(Cc, _rig.Status & Cc);
        // Writing 0 leaves it; writing 1 to other (clear) bits does nothing; writing 1 to it clears it.
        _rig.ExpWrite(SlotStatus, 0);
        Assert.Equal(Cc, _rig.Status & Cc);
        _rig.ExpWrite(SlotStatus, Abp | Pdc);
        Assert.Equal(Cc, _rig.Status & Cc);
        _rig.ClearEvents(Cc);
        Assert.Equal(0, _rig.Status);
        // Read-only state bits cannot be written.
        _rig.ExpWrite(SlotStatus, Pds | Eis);
        Assert.Equal(0, _rig.Status);
    }

    [Fact]
    public void Command_completed_interrupts_only_with_both_enables()
    {
        _rig.Control = PowerOff | PwrOff | AttnOff | Ccie;
        Assert.False(_rig.InterruptLevel);
        _rig.ClearEvents(Cc);
        _rig.Control = PowerOff | PwrOff | AttnOff | Ccie | Hpie;
        Assert.True(_rig.InterruptLevel);
        Assert.Equal(0x08u, _rig.PortRead(0x06, 1) & 0x08);
        _rig.ClearEvents(Cc);
        Assert.False(_rig.InterruptLevel);
    }

    [Fact]
    public void Hotplug_sets_presence_and_link_active_and_raises_pdc_and_dllsc()
    {
        _rig.Control = PowerOff | PwrOff | AttnOff | Hpie | Pdce | Dllsce;
        _rig.ClearEvents(Cc);
        Assert.False(_rig.InterruptLevel);
        _rig.HotPlug(new TestPciDevice());
        Assert.Equal(Pds | Pdc | Dllsc, _rig.Status);
        Assert.Equal(Dllla, _rig.ExpRead(LinkStatus) & Dllla);
        Assert.True(_rig.InterruptLevel);
        _rig.ClearEvents(Pdc);
        Assert.True(_rig.InterruptLevel);
        _rig.ClearEvents(Dllsc);
        Assert.False(_rig.InterruptLevel);
        // The slot is still unpowered: the device answers once the guest powers it on.
        _rig.NumberBus();
        Assert.Equal(0xFFFFFFFFu, _rig.Read(1, 0, 0, 0, 4));
        _rig.Control = PwrOn | AttnOff;
        Assert.Equal(0x11E81234u, _rig.Read(1, 0, 0, 0, 4));
    }

    [Fact]
    public void Cold_plugged_device_is_present_and_powered_without_an_event()
    {
        _rig.HotPlug(new TestPciDevice(), hotplugged: false);
        Assert.Equal(Pds, _rig.Status);
        Assert.Equal(PwrOn | AttnOff, _rig.Control);
        Assert.Equal(Dllla, _rig.ExpRead(LinkStatus) & Dllla);
        _rig.NumberBus();
        Assert.Equal(0x11E81234u, _rig.Read(1, 0, 0, 0, 4));
    }

    [Fact]
    public void Interlock_control_toggles_interlock_status_and_a_locked_slot_refuses_plug()
    {
        _rig.Control = PowerOff | PwrOff | AttnOff | Eic;
        Assert.Equal(Eis, _rig.Status & Eis);
        Assert.Equal(0, _rig.Control & Eic);
        var device = new TestPciDevice();
        var e = Assert.Throws<DeviceRealizeException>(() => _rig.HotPlug(device));
        Assert.Equal("slot is electromechanically locked: Device or resource busy", e.Message);
        Assert.False(device.Realized);
        _rig.Control = PowerOff | PwrOff | AttnOff | Eic;
        Assert.Equal(0, _rig.Status & Eis);
        _rig.HotPlug(device);
    }

    [Fact]
    public void Unplug_request_presses_the_attention_button()
    {
        var device = PoweredDevice();
        _rig.Control = PwrOn | AttnOff | Hpie | Abpe;
        _rig.ClearEvents(Cc);
        Assert.False(_rig.InterruptLevel);
        _rig.Slot.UnplugRequest(device);
        Assert.Equal(Abp, _rig.Status & Abp);
        Assert.True(_rig.InterruptLevel);
        Assert.True(device.Realized);
        Assert.Empty(_rig.Unplugged);
        Assert.Single(_rig.Port.PendingUnplugs);
    }

    [Fact]
    public void Repeated_request_is_pending_for_five_seconds_of_virtual_time()
    {
        var device = PoweredDevice();
        _rig.Slot.UnplugRequest(device);
        Assert.True(_rig.Slot.UnplugPending(device));
        _rig.Clock.Advance(4_999_999_999);
        Assert.True(_rig.Slot.UnplugPending(device));
        _rig.Clock.Advance(1);
        Assert.False(_rig.Slot.UnplugPending(device));
        // An old request may be repeated: the button is pressed again.
        _rig.ClearEvents(Abp);
        _rig.Slot.UnplugRequest(device);
        Assert.Equal(Abp, _rig.Status & Abp);
        Assert.True(_rig.Slot.UnplugPending(device));
    }

    [Fact]
    public void Guest_powering_the_slot_off_removes_the_device()
    {
        var device = PoweredDevice();
        _rig.Slot.UnplugRequest(device);
        _rig.ClearEvents(Abp);
        // Linux pciehp: power indicator blinks, then power off, then indicator off (01f1, 02f1, 06f1, 07f1).
        _rig.Control = PwrBlink | AttnOff;
        _rig.Control = PowerOff | PwrBlink | AttnOff;
        Assert.True(device.Realized);
        Assert.Equal(0xFFFFFFFFu, _rig.Read(1, 0, 0, 0, 4));
        _rig.ClearEvents(Cc);
        _rig.Control = PowerOff | PwrOff | AttnOff;
        Assert.False(device.Realized);
        Assert.Same(device, Assert.Single(_rig.Unplugged));
        Assert.Empty(_rig.Port.SecondaryBus.Devices);
        Assert.Equal(Pdc | Dllsc | Cc, _rig.Status);
        Assert.Equal(0, _rig.ExpRead(LinkStatus) & Dllla);
        Assert.Empty(_rig.Port.PendingUnplugs);
        // Writing the same powered-off state again removes nothing more.
        _rig.Control = PowerOff | PwrOff | AttnOff;
        Assert.Single(_rig.Unplugged);
    }

    [Fact]
    public void Cutting_power_resets_the_device_behind()
    {
        var device = PoweredDevice();
        var resets = device.Resets;
        _rig.Control = PowerOff | PwrOn | AttnOff;
        Assert.Equal(resets + 1, device.Resets);
        Assert.True(device.Realized);
    }

    [Fact]
    public void Guest_cancelling_the_button_press_refuses_the_unplug()
    {
        var device = PoweredDevice();
        _rig.Slot.UnplugRequest(device);
        _rig.Control = PwrBlink | AttnOff;
        Assert.Empty(_rig.Refused);
        _rig.Control = PwrOn | AttnOff;
        Assert.Same(device, Assert.Single(_rig.Refused));
        Assert.Empty(_rig.Port.PendingUnplugs);
        Assert.False(_rig.Slot.UnplugPending(device));
        Assert.True(device.Realized);
        Assert.Empty(_rig.Unplugged);
    }

    [Fact]
    public void Attention_indicator_on_while_pending_refuses_the_unplug()
    {
        var device = PoweredDevice();
        _rig.Slot.UnplugRequest(device);
        _rig.Control = PwrOn | AttnOn;
        Assert.Same(device, Assert.Single(_rig.Refused));
    }

    [Fact]
    public void Indicator_changes_without_a_request_refuse_nothing()
    {
        PoweredDevice();
        _rig.Control = PwrBlink | AttnOff;
        _rig.Control = PwrOn | AttnOn;
        Assert.Empty(_rig.Refused);
    }

    [Fact]
    public void Unplug_request_on_a_powered_off_slot_removes_the_device_at_once()
    {
        _rig.Control = PowerOff | PwrOff | AttnOff | Hpie | Abpe;
        var device = _rig.HotPlug(new TestPciDevice());
        _rig.Slot.UnplugRequest(device);
        Assert.False(device.Realized);
        Assert.Same(device, Assert.Single(_rig.Unplugged));
        Assert.Equal(0, _rig.Status & (Abp | Pds));
    }

    [Fact]
    public void Pending_unplugs_complete_on_request()
    {
        var device = PoweredDevice();
        _rig.Slot.UnplugRequest(device);
        _rig.Slot.CompletePendingUnplugs();
        Assert.False(device.Realized);
        Assert.Same(device, Assert.Single(_rig.Unplugged));
    }

    [Fact]
    public void Reset_powers_a_populated_slot_and_clears_events_and_enables()
    {
        PoweredDevice();
        _rig.Control = PwrBlink | AttnOn | Hpie | Ccie | Eic;
        _rig.Port.Reset();
        Assert.Equal(PwrOn | AttnOff, _rig.Control);
        Assert.Equal(Pds, _rig.Status);
        Assert.False(_rig.InterruptLevel);
        Assert.Equal(0u, _rig.PortRead(0x19, 1));
    }

    [Fact]
    public void Slot_state_round_trips_through_save_and_load()
    {
        PoweredDevice();
        _rig.Control = PwrOn | AttnOff | Hpie | Abpe | Pdce;
        using var other = new PcieTestRig(p => p.PhysicalSlot = 5);
        other.HotPlug(new TestPciDevice(), hotplugged: false);
        TestBoard.CopyState(_rig.Port, other.Port);
        Assert.Equal(_rig.Control, other.Control);
        Assert.Equal(_rig.Status, other.Status);
        Assert.Equal(1, other.Port.SecondaryBusNumber);
        Assert.Equal(_rig.Port.SectionName, other.Port.SectionName);
        Assert.Equal("0000:00:02.0/pcie-root-port", other.Port.SectionName);
    }

    [Fact]
    public void Second_port_with_the_same_chassis_and_slot_is_refused()
    {
        var again = new PcieRootPort { Id = "rp2", Chassis = 1, PhysicalSlot = 5 };
        var e = Assert.Throws<DeviceRealizeException>(() => _rig.Pci.Host.Plug(again, 3));
        Assert.Equal("Can't add chassis slot, error -16", e.Message);
        Assert.Null(_rig.Pci.Host.Find(3, 0));
        _rig.Pci.Host.Plug(new PcieRootPort { Id = "rp2", Chassis = 1, PhysicalSlot = 6 }, 3);
    }

    [Fact]
    public void Only_slot_0_exists_behind_a_port()
    {
        var e = Assert.Throws<DeviceRealizeException>(() => _rig.HotPlug(new TestPciDevice { Slot = 3 }));
        Assert.Equal("PCI: slot 3 function 0 not available for test-pci, bus 'rp1' is a PCI Express port with only slot 0", e.Message);
        _rig.HotPlug(new TestPciDevice { Id = "t0" });
        e = Assert.Throws<DeviceRealizeException>(() => _rig.HotPlug(new TestPciDevice()));
        Assert.Equal("PCI: slot 0 function 0 not available for test-pci, in use by test-pci,id=t0", e.Message);
        e = Assert.Throws<DeviceRealizeException>(() => _rig.HotPlug(new TestPciDevice { Slot = 0, Function = 1 }));
        Assert.Equal("PCI: slot 0 function 0 already occupied by test-pci, new func test-pci cannot be exposed to guest.", e.Message);
    }

    // A device hotplugged and powered on by the guest, with bus 1 numbered and the CC event cleared.
    private TestPciDevice PoweredDevice()
    {
        var device = _rig.HotPlug(new TestPciDevice());
        _rig.NumberBus();
        _rig.Control = PwrOn | AttnOff;
        _rig.ClearEvents((ushort)(Pdc | Dllsc | Cc));
        return device;
    }
}
