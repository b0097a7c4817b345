using static Qmp.Machine.Devices.Pci.PcieRegisters;

namespace Qmp.Machine.Devices.Pci;

// The hotplug slot: QEMU's pcie_cap_slot_* (hw/pci/pcie.c) with the state machine of the class remarks.
public sealed partial class PcieRootPort
{
    // QEMU's pending_deleted_expires_ms for native PCI Express unplug: 5 s of virtual time, the time Linux
    // pciehp waits after a button press before it powers the slot off.
    private const long UnplugRequestLifetime = 5_000_000_000;

    // Unplug requests the guest has not answered, with the virtual time of the button press.
    private readonly Dictionary<PciDevice, long> _pending = [];

    /// <summary>The functions with an unplug request the guest has not answered yet.</summary>
    public IReadOnlyCollection<PciDevice> PendingUnplugs => _pending.Keys;

    /// <summary>Virtual time for tests, which advance it by hand; the board's clock otherwise.</summary>
    internal Pc.IDeviceClock? ClockOverride { get; set; }

    private PciHost Host => Bus?.Host ?? throw new InvalidOperationException($"{TypeName} is not on a bus");

    void IPciHotplugHandler.PrePlug(PciDevice device)
    {
        Host.Inject(device, PciRealizeStep.PrePlug);
        // QEMU's pcie_cap_slot_plug_common, with error_setg_errno's EBUSY text.
        if ((ReadWord(SlotStatus) & ElectromechanicalInterlockStatus) != 0)
            throw new DeviceRealizeException("slot is electromechanically locked: Device or resource busy");
    }

    void IPciHotplugHandler.Plug(PciDevice device)
    {
        Host.Inject(device, PciRealizeStep.Plug);
        if (!device.Hotplugged)
        {
            // Present from power-on, as QEMU's machine reset leaves a populated slot: powered, indicator on.
            WriteWord(SlotStatus, (ushort)(ReadWord(SlotStatus) | PresenceDetectState));
            SetLinkActive(true);
            WriteWord(SlotControl, (ushort)((ReadWord(SlotControl) & ~(PowerControllerOff | PowerIndicatorMask)) | PowerIndicatorOn));
            Host.RefreshForwarding();
            return;
        }
        if (!_hotplug)
            throw new DeviceRealizeException($"Hot-plug failed: unsupported by the port device '{Id ?? "(null)"}'");
        // Function 0 tells the guest about the whole slot, so a multifunction device plugs it last.
        if (SecondaryBus.Find(0, 0) is null)
            return;
        WriteWord(SlotStatus, (ushort)(ReadWord(SlotStatus) | PresenceDetectState));
        SetLinkActive(true);
        RaiseEvents(PresenceDetectChanged | DllStateChanged);
    }

    bool IPciHotplugHandler.UnplugPending(PciDevice device) =>
        _pending.TryGetValue(device, out var requested) && Now - requested < UnplugRequestLifetime;

    void IPciHotplugHandler.UnplugRequest(PciDevice device)
    {
        if (!_hotplug)
            throw new MachineOperationException($"Hot-unplug failed: unsupported by the port device '{Id ?? "(null)"}'");
        if ((ReadWord(SlotStatus) & ElectromechanicalInterlockStatus) != 0)
            throw new MachineOperationException("slot is electromechanically locked: Device or resource busy");
        _pending[device] = Now;
        // A function the guest never saw (no function 0) goes without asking (QEMU's cancelled multifunction add).
        if (device.Address is { Function: not 0 } && SecondaryBus.Find(0, 0) is null)
        {
            Eject(device);
            return;
        }
        // A powered-off slot has nothing the guest could release: unplug without the round trip (QEMU 7.2).
        if (PoweredOff(ReadWord(SlotControl)))
        {
            EjectSlot();
            WriteWord(SlotStatus, (ushort)(ReadWord(SlotStatus) & ~AttentionButtonPressed));
            UpdateInterrupt();
            return;
        }
        RaiseEvents(AttentionButtonPressed);
    }

    void IPciHotplugHandler.CompletePendingUnplugs()
    {
        if (_pending.Count > 0)
            EjectSlot();
    }

    internal override void SecondaryDetached(PciDevice device)
    {
        _pending.Remove(device);
        // A function that went without the slot removing it (rolled-back realize, teardown): the slot is empty.
        if (_exp != 0 && SecondaryBus.Devices.Count == 0 && (ReadWord(SlotStatus) & PresenceDetectState) != 0)
        {
            WriteWord(SlotStatus, (ushort)(ReadWord(SlotStatus) & ~PresenceDetectState));
            SetLinkActive(false);
        }
    }

    // QEMU's pcie_sltctl_powered_off: power controller off and power indicator off.
    private static bool PoweredOff(ushort control) =>
        (control & PowerControllerOff) != 0 && (control & PowerIndicatorMask) == PowerIndicatorOff;

    // The guest cancels a pending request: power indicator from blink back to on, or attention indicator on.
    private static bool Refused(ushort oldControl, ushort control) =>
        ((control & PowerIndicatorMask) == PowerIndicatorOn && (oldControl & PowerIndicatorMask) == PowerIndicatorBlink)
        || ((control & AttentionIndicatorMask) == AttentionIndicatorOn && (oldControl & AttentionIndicatorMask) != AttentionIndicatorOn);

    private long Now => ClockOverride?.Now ?? Context.Timers.Clock.Now;

    // A write to Slot Control is one command (QEMU's pcie_cap_slot_write_config).
    private void SlotCommand(ushort oldControl)
    {
        var control = ReadWord(SlotControl);
        if ((control & ElectromechanicalInterlockControl) != 0)
        {
            control &= unchecked((ushort)~ElectromechanicalInterlockControl);
            WriteWord(SlotControl, control);
            WriteWord(SlotStatus, (ushort)(ReadWord(SlotStatus) ^ ElectromechanicalInterlockStatus));
        }
        if (((control ^ oldControl) & PowerControllerOff) != 0)
        {
            // Cutting power resets what is behind (QEMU's pci_set_power); either way forwarding changes.
            if ((control & PowerControllerOff) != 0)
                ResetSecondary();
            Host.RefreshForwarding();
        }
        if ((ReadWord(SlotStatus) & PresenceDetectState) != 0 && PoweredOff(control) && !PoweredOff(oldControl))
            EjectSlot();
        else if (_pending.Count > 0 && (control & PowerControllerOff) == 0 && Refused(oldControl, control))
            RefuseUnplug();
        // Commands complete at once; No Command Completed Support is 0, so the guest is told.
        RaiseEvents(CommandCompleted);
    }

    // QEMU's pcie_cap_slot_do_unplug: every function behind goes, presence and link drop.
    private void EjectSlot()
    {
        foreach (var device in SecondaryBus.Devices.Reverse())
            Eject(device);
        WriteWord(SlotStatus, (ushort)(ReadWord(SlotStatus) & ~PresenceDetectState));
        SetLinkActive(false);
        RaiseEvents(PresenceDetectChanged | DllStateChanged);
    }

    // Unrealize cannot fail: the function releases everything, then the board forgets it and reports it.
    private void Eject(PciDevice device)
    {
        _pending.Remove(device);
        device.Unrealize();
        Host.RaiseUnplugged(device);
    }

    private void RefuseUnplug()
    {
        var refused = _pending.Keys.ToArray();
        _pending.Clear();
        foreach (var device in refused)
            Host.RaiseUnplugRefused(device);
    }

    // QEMU's pcie_cap_slot_reset: enables and indicators off, power and power indicator by population,
    // events and the interlock cleared; presence stays.
    private void ResetSlot()
    {
        var populated = SecondaryBus.Find(0, 0) is not null;
        var control = (ushort)(populated ? AttentionIndicatorOff | PowerIndicatorOn : AttentionIndicatorOff | PowerIndicatorOff | PowerControllerOff);
        WriteWord(SlotControl, control);
        WriteWord(SlotStatus, (ushort)(ReadWord(SlotStatus) & ~(SlotStatusEvents | ElectromechanicalInterlockStatus)));
        WriteWord(DeviceControl, 0);
        WriteWord(LinkControl, 0);
        WriteWord(RootControl, 0);
        WriteWord(DeviceControl2, 0);
        _pending.Clear();
    }

    private void SetLinkActive(bool active)
    {
        var status = ReadWord(LinkStatus);
        WriteWord(LinkStatus, active ? (ushort)(status | LinkStatusDllActive) : (ushort)(status & ~LinkStatusDllActive));
    }

    // QEMU's pcie_cap_slot_event: set the event bits, then re-evaluate the interrupt.
    private void RaiseEvents(ushort events)
    {
        WriteWord(SlotStatus, (ushort)(ReadWord(SlotStatus) | events));
        UpdateInterrupt();
    }

    // QEMU's hotplug_event_update_event_status: INTx follows Hot-Plug Interrupt Enable and the enabled events pending.
    private void UpdateInterrupt()
    {
        var control = ReadWord(SlotControl);
        var status = ReadWord(SlotStatus);
        var events = (status & control & (AttentionButtonPressed | PowerFaultDetected | MrlSensorChanged | PresenceDetectChanged | CommandCompleted)) != 0
            || ((status & DllStateChanged) != 0 && (control & DllStateChangedEnable) != 0);
        SetIrq((control & HotplugInterruptEnable) != 0 && events);
    }
}
