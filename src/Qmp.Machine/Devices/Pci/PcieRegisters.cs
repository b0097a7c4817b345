namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// The PCI Express capability (id 0x10, version 2, 0x3C bytes) as a root port with a slot uses it: offsets
/// from the capability start and the bits of the device, link and slot registers (PCIe Base 4.0, §7.5.3).
/// </summary>
internal static class PcieRegisters
{
    public const byte CapabilityId = 0x10;
    public const int CapabilitySize = 0x3C;

    public const int Flags = 0x02;
    public const int DeviceCapabilities = 0x04;
    public const int DeviceControl = 0x08;
    public const int DeviceStatus = 0x0A;
    public const int LinkCapabilities = 0x0C;
    public const int LinkControl = 0x10;
    public const int LinkStatus = 0x12;
    public const int SlotCapabilities = 0x14;
    public const int SlotControl = 0x18;
    public const int SlotStatus = 0x1A;
    public const int RootControl = 0x1C;
    public const int DeviceCapabilities2 = 0x24;
    public const int DeviceControl2 = 0x28;

    // Capabilities register: version 2, device/port type Root Port (4), Slot Implemented.
    public const ushort FlagsVersion2 = 0x0002;
    public const ushort FlagsTypeRootPort = 0x0040;
    public const ushort FlagsSlotImplemented = 0x0100;

    public const uint DeviceCapabilitiesRoleBasedErrors = 0x00008000;
    public const ushort DeviceErrorReportingEnables = 0x000F;
    public const ushort DeviceErrorStatus = 0x000F;

    // Link capabilities: port number in 31:24, ASPM L0s, width x1, 2.5 GT/s, DLL Link Active Reporting Capable.
    public const uint LinkCapabilitiesAspmL0s = 0x00000400;
    public const uint LinkCapabilitiesWidthX1 = 0x00000010;
    public const uint LinkCapabilitiesSpeed2_5 = 0x00000001;
    public const uint LinkCapabilitiesDllActiveReporting = 0x00100000;
    public const int LinkCapabilitiesPortShift = 24;
    public const ushort LinkControlWritable = 0x00C0;

    // Link status: negotiated width x1 at 2.5 GT/s, Data Link Layer Link Active.
    public const ushort LinkStatusWidthX1 = 0x0010;
    public const ushort LinkStatusSpeed2_5 = 0x0001;
    public const ushort LinkStatusDllActive = 0x2000;

    // Slot capabilities.
    public const uint SlotAttentionButton = 0x00000001;
    public const uint SlotPowerController = 0x00000002;
    public const uint SlotMrlSensor = 0x00000004;
    public const uint SlotAttentionIndicator = 0x00000008;
    public const uint SlotPowerIndicator = 0x00000010;
    public const uint SlotHotplugSurprise = 0x00000020;
    public const uint SlotHotplugCapable = 0x00000040;
    public const uint SlotElectromechanicalInterlock = 0x00020000;
    public const uint SlotNoCommandCompleted = 0x00040000;
    public const int SlotPhysicalNumberShift = 19;

    // Slot control.
    public const ushort AttentionButtonEnable = 0x0001;
    public const ushort PowerFaultEnable = 0x0002;
    public const ushort MrlSensorChangedEnable = 0x0004;
    public const ushort PresenceDetectChangedEnable = 0x0008;
    public const ushort CommandCompletedEnable = 0x0010;
    public const ushort HotplugInterruptEnable = 0x0020;
    public const ushort AttentionIndicatorMask = 0x00C0;
    public const ushort AttentionIndicatorOn = 0x0040;
    public const ushort AttentionIndicatorBlink = 0x0080;
    public const ushort AttentionIndicatorOff = 0x00C0;
    public const ushort PowerIndicatorMask = 0x0300;
    public const ushort PowerIndicatorOn = 0x0100;
    public const ushort PowerIndicatorBlink = 0x0200;
    public const ushort PowerIndicatorOff = 0x0300;
    public const ushort PowerControllerOff = 0x0400;
    public const ushort ElectromechanicalInterlockControl = 0x0800;
    public const ushort DllStateChangedEnable = 0x1000;
    public const ushort SlotControlWritable = 0x1FFF;

    // Slot status: the events are RW1C, the states read-only.
    public const ushort AttentionButtonPressed = 0x0001;
    public const ushort PowerFaultDetected = 0x0002;
    public const ushort MrlSensorChanged = 0x0004;
    public const ushort PresenceDetectChanged = 0x0008;
    public const ushort CommandCompleted = 0x0010;
    public const ushort MrlSensorState = 0x0020;
    public const ushort PresenceDetectState = 0x0040;
    public const ushort ElectromechanicalInterlockStatus = 0x0080;
    public const ushort DllStateChanged = 0x0100;
    public const ushort SlotStatusEvents = AttentionButtonPressed | PowerFaultDetected | MrlSensorChanged | PresenceDetectChanged | CommandCompleted | DllStateChanged;

    public const ushort RootControlWritable = 0x0007;

    // Device capabilities 2: ARI forwarding, extended fmt field, end-end TLP prefix (QEMU's v2 defaults).
    public const uint DeviceCapabilities2Value = 0x00000020 | 0x00100000 | 0x00200000;
    public const ushort DeviceControl2Writable = 0x0020 | 0x8000;
}
