using System.Buffers.Binary;
using Qmp.Machine.Qom;
using static Qmp.Machine.Devices.Pci.PcieRegisters;

namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// QEMU's <c>pcie-root-port</c> (1B36:000C, class 0x0604, type-1 header, INTA): a PCI Express root port
/// whose one slot takes a device while the guest runs, with the native PCI Express hotplug registers a
/// standard OS driver (Linux pciehp) drives. Properties as QEMU's: <c>chassis</c>, <c>slot</c> (the
/// physical slot number), <c>port</c> (the link's port number), <c>hotplug</c>, and the PCI <c>bus</c>,
/// <c>addr</c> and <c>id</c>; the id names the secondary bus children give as <c>bus=</c>.
/// </summary>
/// <remarks>
/// <para><b>Register model</b> (the Express capability, placed at 0x40):</para>
/// <list type="bullet">
/// <item>Slot Capabilities: Attention Button, Power Controller, Attention Indicator and Power Indicator
/// present, MRL sensor absent, Electromechanical Interlock present, Hot-Plug Surprise off, Hot-Plug Capable
/// (unless <c>hotplug=off</c>), No Command Completed Support 0 (every command reports completion), Physical
/// Slot Number = <c>slot</c>. Link Capabilities: x1 at 2.5 GT/s, port number = <c>port</c>, Data Link Layer
/// Link Active Reporting Capable.</item>
/// <item>Slot Control (read/write): the enables of Attention Button Pressed, Power Fault, MRL Sensor
/// Changed, Presence Detect Changed, Command Completed and DLL State Changed, Hot-Plug Interrupt Enable, the
/// attention and power indicators (01 on, 10 blink, 11 off), Power Controller Control (1 = off) and the
/// Electromechanical Interlock Control (writing 1 toggles EIS; reads 0).</item>
/// <item>Slot Status: ABP, PFD, MSC, PDC, CC and DLLSC are write-1-to-clear events; MRLSS (0), PDS and EIS
/// are states. Link Status: DLLLA follows presence.</item>
/// </list>
/// <para><b>State machine</b>:</para>
/// <list type="number">
/// <item>Cold plug (-device …,bus=rp): the slot is populated and powered from the start: PDS=1, DLLLA=1,
/// power controller on, power indicator on, no event. Reset puts an empty slot's power off and its indicator
/// off, a populated one's on.</item>
/// <item>Insert (device_add): the device realizes behind the (still unpowered) slot, then PDS=1, DLLLA=1 and
/// the PDC and DLLSC events. The guest powers the slot on (PCC=0) before it can reach the device: an
/// unpowered slot answers configuration reads with all ones and forwards no BAR.</item>
/// <item>Unplug request (device_del): the attention button is pressed (ABP event) and device_del returns.
/// A repeated device_del within 5 s of virtual time does nothing (a second press would cancel the removal
/// in the guest); after that it presses the button again (QEMU's pending_deleted_expires_ms). When the slot
/// is powered off already, or the function is one the guest cannot see (no function 0), the device goes at
/// once without the guest.</item>
/// <item>The guest powers the slot off (a Slot Control write leaving PCC=1 and the power indicator off,
/// from a state that was not both): every function behind the slot is unrealized and removed (the board
/// emits DEVICE_DELETED), PDS=0, DLLLA=0, events PDC and DLLSC. A guest may do that without a request too.
/// Cutting power (PCC 0→1) resets the functions behind, as QEMU's pci_set_power does.</item>
/// <item>Refusal: while an unplug request is pending, the guest turns the power indicator from blink back
/// to on with power still on (Linux pciehp's "button cancel"), or turns the attention indicator on (the
/// spec's "operational problem"): the request ends and the board emits DEVICE_UNPLUG_GUEST_ERROR.</item>
/// <item>Every write to Slot Control is a command and completes at once: CC event.</item>
/// </list>
/// <para>
/// The hotplug interrupt is asserted while Hot-Plug Interrupt Enable is set and an enabled event is
/// pending (QEMU's hpev_notified), and drops when the guest clears the events. QEMU sends it as MSI-X or MSI
/// when the guest enabled them; qmpd has no MSI delivery, so it is always INTx: pin A of the port, routed
/// like any function on pci.0 (PIIX3 PIRQ). Differences from QEMU 7.2, on purpose: status bits are plain
/// RW1C (QEMU keeps every event when a write also tries to clear one that is not set), insertion raises
/// PDC and DLLSC (QEMU raises PDC and ABP and does not report DLL state changes at 2.5 GT/s), there is no
/// MSI-X table BAR and no AER/ACS extended capability (mechanism #1 reaches 256 bytes), and a pending
/// unplug completes at system_reset (QEMU's ACPI hotplug does this; its native path does not).
/// </para>
/// </remarks>
public sealed partial class PcieRootPort : PciBridge, IPciHotplugHandler
{
    private byte _chassis;
    private ushort _slot;
    private byte _port;
    private bool _hotplug = true;

    // Offset of the Express capability while realized; 0 otherwise.
    private int _exp;

    /// <inheritdoc/>
    public override string TypeName => "pcie-root-port";

    /// <summary>QEMU's <c>chassis</c>: with <c>slot</c>, unique among the ports ("Can't add chassis slot, error -16").</summary>
    public byte Chassis { get => _chassis; set => Update("chassis", () => _chassis = value); }

    /// <summary>QEMU's <c>slot</c>: the Physical Slot Number of Slot Capabilities.</summary>
    public ushort PhysicalSlot { get => _slot; set => Update("slot", () => _slot = value); }

    /// <summary>QEMU's <c>port</c>: the port number of Link Capabilities.</summary>
    public byte Port { get => _port; set => Update("port", () => _port = value); }

    /// <summary>QEMU's <c>hotplug</c>: whether the slot is Hot-Plug Capable (otherwise its bus refuses device_add).</summary>
    public bool Hotplug { get => _hotplug; set => Update("hotplug", () => _hotplug = value); }

    /// <summary>Slot Control as the guest last wrote it.</summary>
    public ushort SlotControlValue => _exp == 0 ? (ushort)0 : ReadWord(SlotControl);

    /// <summary>Slot Status.</summary>
    public ushort SlotStatusValue => _exp == 0 ? (ushort)0 : ReadWord(SlotStatus);

    /// <summary>The configuration offset of the PCI Express capability while realized (0 otherwise).</summary>
    public int ExpressCapabilityOffset => _exp;

    bool IPciHotplugHandler.HotplugCapable => _hotplug;

    internal override string SecondaryBusType => "PCIE";

    internal override bool SingleSlot => true;

    // The power controller cuts the slot while Power Controller Control reads 1.
    internal override bool SecondaryPowered => _exp == 0 || (ReadWord(SlotControl) & PowerControllerOff) == 0;

    internal override IPciHotplugHandler? SlotHandler => this;

    /// <inheritdoc/>
    protected override ushort VendorId => 0x1B36;

    /// <inheritdoc/>
    protected override ushort DeviceId => 0x000C;

    /// <inheritdoc/>
    protected override byte InterruptPin => 1;

    /// <inheritdoc/>
    public override IEnumerable<QomProperty> QomProperties() =>
    [
        .. base.QomProperties(),
        new("chassis", "uint8", () => Chassis, v => Chassis = Byte(v, "chassis")),
        new("slot", "uint16", () => PhysicalSlot, v => PhysicalSlot = UInt16(v, "slot")),
        new("port", "uint8", () => Port, v => Port = Byte(v, "port")),
        new("hotplug", "bool", () => Hotplug, v => Hotplug = QomValues.Bool(v, "hotplug")),
    ];

    /// <inheritdoc/>
    protected override void RealizeBridge(RealizeScope scope)
    {
        // QEMU's pcie_chassis_add_slot: a chassis/slot pair names one slot.
        foreach (var other in Bus!.Host.Buses.SelectMany(b => b.Devices).OfType<PcieRootPort>())
        {
            if (!ReferenceEquals(other, this) && other._exp != 0 && other._chassis == _chassis && other._slot == _slot)
                throw new DeviceRealizeException("Can't add chassis slot, error -16");
        }
        var body = new byte[CapabilitySize - 2];
        Span<byte> cap = body;
        BinaryPrimitives.WriteUInt16LittleEndian(cap[(Flags - 2)..], FlagsVersion2 | FlagsTypeRootPort | FlagsSlotImplemented);
        BinaryPrimitives.WriteUInt32LittleEndian(cap[(DeviceCapabilities - 2)..], DeviceCapabilitiesRoleBasedErrors);
        BinaryPrimitives.WriteUInt32LittleEndian(cap[(LinkCapabilities - 2)..],
            ((uint)_port << LinkCapabilitiesPortShift) | LinkCapabilitiesAspmL0s | LinkCapabilitiesWidthX1 | LinkCapabilitiesSpeed2_5 | LinkCapabilitiesDllActiveReporting);
        BinaryPrimitives.WriteUInt16LittleEndian(cap[(LinkStatus - 2)..], LinkStatusWidthX1 | LinkStatusSpeed2_5);
        BinaryPrimitives.WriteUInt32LittleEndian(cap[(SlotCapabilities - 2)..],
            SlotAttentionButton | SlotPowerController | SlotAttentionIndicator | SlotPowerIndicator | SlotElectromechanicalInterlock
            | (_hotplug ? SlotHotplugCapable : 0) | ((uint)_slot << SlotPhysicalNumberShift));
        BinaryPrimitives.WriteUInt32LittleEndian(cap[(DeviceCapabilities2 - 2)..], DeviceCapabilities2Value);
        var exp = AddCapability(CapabilityId, body);
        _exp = exp;
        scope.OnUndo(() =>
        {
            _exp = 0;
            _pending.Clear();
        });
        SetMask(WritableMask, DeviceControl, DeviceErrorReportingEnables);
        SetMask(WriteOneToClearMask, DeviceStatus, DeviceErrorStatus);
        SetMask(WritableMask, LinkControl, LinkControlWritable);
        SetMask(WritableMask, SlotControl, SlotControlWritable);
        SetMask(WriteOneToClearMask, SlotStatus, SlotStatusEvents);
        SetMask(WritableMask, RootControl, RootControlWritable);
        SetMask(WritableMask, DeviceControl2, DeviceControl2Writable);
        // Link and slot state change at run time; a state load takes them as they come.
        SetMask(CheckedMask, LinkStatus, 0);
        SetMask(CheckedMask, SlotStatus, 0);
    }

    /// <inheritdoc/>
    protected override void OnReset()
    {
        base.OnReset();
        if (_exp != 0)
            ResetSlot();
    }

    /// <inheritdoc/>
    protected override void WriteConfig(int offset, int size, uint value)
    {
        if (_exp == 0)
        {
            base.WriteConfig(offset, size, value);
            return;
        }
        var oldControl = ReadWord(SlotControl);
        base.WriteConfig(offset, size, value);
        if (Overlaps(offset, size, _exp + SlotStatus, 2))
            UpdateInterrupt();
        if (Overlaps(offset, size, _exp + SlotControl, 2))
            SlotCommand(oldControl);
    }

    /// <inheritdoc/>
    protected override void LoadDeviceState(BinaryReader reader, int version)
    {
        base.LoadDeviceState(reader, version);
        _pending.Clear();
    }

    private static bool Overlaps(int offset, int size, int start, int length) => offset < start + length && start < offset + size;

    private static byte Byte(System.Text.Json.Nodes.JsonNode? value, string name) =>
        QomValues.UInt32(value, name) is var n and <= byte.MaxValue ? (byte)n : throw new MachineOperationException($"Parameter '{name}' expects uint8_t");

    private static ushort UInt16(System.Text.Json.Nodes.JsonNode? value, string name) =>
        QomValues.UInt32(value, name) is var n and <= ushort.MaxValue ? (ushort)n : throw new MachineOperationException($"Parameter '{name}' expects uint16_t");

    // A 16-bit mask of the Express capability register at <paramref name="register"/>.
    private void SetMask(Span<byte> mask, int register, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(mask[(_exp + register)..], value);

    private ushort ReadWord(int register) => BinaryPrimitives.ReadUInt16LittleEndian(Config[(_exp + register)..]);

    private void WriteWord(int register, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Config[(_exp + register)..], value);

    private void Update(string property, Action apply)
    {
        CheckNotRealized(property);
        apply();
    }
}
