using System.Buffers.Binary;
using static Qmp.Machine.Devices.Pci.PciBridgeRegisters;
using static Qmp.Machine.Devices.Pci.PciConfigRegisters;

namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// A PCI-to-PCI bridge function (QEMU's PCIBridge): a type-1 header (class 0x0604) with primary, secondary
/// and subordinate bus numbers, an I/O window (16-bit decoding), a memory window and a 64-bit prefetchable
/// window, and the bridge control register, in front of a secondary bus named after the bridge's id.
/// </summary>
/// <remarks>
/// <para>
/// Configuration cycles: the host hands a type-1 cycle for bus N to the bridge whose secondary..subordinate
/// range holds N; for N = secondary the bridge turns it into a type-0 cycle on its bus, otherwise it passes
/// it on to the bridges there. A bridge whose secondary bus number is still 0 (not numbered by firmware or
/// the guest) claims nothing.
/// </para>
/// <para>
/// Memory and I/O: a BAR behind the bridge is visible in guest memory or port space only while the bridge's
/// command register enables that space and the whole BAR lies inside one of its windows (QEMU aliases the
/// window part of a BAR that straddles a window edge; qmpd maps a BAR whole or not at all). The ISA and VGA
/// enables of bridge control are kept but change no decoding. Writing bridge control's secondary bus reset
/// bit resets every function behind the bridge. Used on the machine thread.
/// </para>
/// </remarks>
public abstract class PciBridge : PciDevice
{
    private readonly PciBridgeBus _secondary;

    /// <summary>Creates the bridge and its (empty) secondary bus.</summary>
    protected PciBridge() => _secondary = new PciBridgeBus(this);

    /// <summary>The bus behind the bridge; <c>bus=</c> names it by the bridge's id.</summary>
    public PciBus SecondaryBus => _secondary;

    /// <summary>The primary bus number register (0x18).</summary>
    public int PrimaryBusNumber => Config[PrimaryBusRegister];

    /// <summary>The secondary bus number register (0x19): the number of the bus behind the bridge.</summary>
    public int SecondaryBusNumber => Config[SecondaryBusRegister];

    /// <summary>The subordinate bus number register (0x1A): the highest bus number behind the bridge.</summary>
    public int SubordinateBusNumber => Config[SubordinateBusRegister];

    /// <inheritdoc/>
    protected override ushort ClassId => 0x0604;

    /// <inheritdoc/>
    protected sealed override byte HeaderLayout => 1;

    /// <summary>QEMU's bus type of the secondary bus in "can't go on … bus": <c>PCI</c>, or <c>PCIE</c> for an Express port.</summary>
    internal virtual string SecondaryBusType => "PCI";

    /// <summary>A PCI Express downstream port reaches only device 0 of its bus; a conventional bridge has 32 slots.</summary>
    internal virtual bool SingleSlot => false;

    /// <summary>Whether the functions behind the bridge have power (a slot's power controller can cut it).</summary>
    internal virtual bool SecondaryPowered => true;

    /// <summary>The secondary bus's hotplug handler, if the bridge is a hotplug slot.</summary>
    internal virtual IPciHotplugHandler? SlotHandler => null;

    // The windows as QEMU's pci_bridge_get_base/limit decode them: I/O in 4 KiB and memory in 1 MiB units.
    internal (ulong Base, ulong Limit) IoWindow
    {
        get
        {
            ulong baseValue = (ulong)(Config[IoBase] & IoRangeMask) << 8;
            ulong limitValue = ((ulong)(Config[IoLimit] & IoRangeMask) << 8) | 0xFFF;
            if ((Config[IoBase] & 0x0F) == IoRangeType32)
            {
                baseValue |= (ulong)Word(IoBaseUpper16) << 16;
                limitValue |= (ulong)Word(IoLimitUpper16) << 16;
            }
            return (baseValue, limitValue);
        }
    }

    internal (ulong Base, ulong Limit) MemoryWindow =>
        ((ulong)(Word(MemoryBase) & MemoryRangeMask) << 16, ((ulong)(Word(MemoryLimit) & MemoryRangeMask) << 16) | 0xFFFFF);

    internal (ulong Base, ulong Limit) PrefetchableWindow
    {
        get
        {
            ulong baseValue = (ulong)(Word(PrefetchableBase) & MemoryRangeMask) << 16;
            ulong limitValue = ((ulong)(Word(PrefetchableLimit) & MemoryRangeMask) << 16) | 0xFFFFF;
            if ((Word(PrefetchableBase) & 0x0F) == PrefetchableRangeType64)
            {
                baseValue |= (ulong)DWord(PrefetchableBaseUpper32) << 32;
                limitValue |= (ulong)DWord(PrefetchableLimitUpper32) << 32;
            }
            return (baseValue, limitValue);
        }
    }

    /// <summary>Whether the bridge forwards a whole range from its primary side to its secondary side.</summary>
    internal bool ForwardsRange(ulong address, ulong size, bool io)
    {
        var command = Word(Command);
        var last = address + size - 1;
        if (io)
            return (command & CommandIo) != 0 && Inside(IoWindow, address, last);
        return (command & CommandMemory) != 0 && (Inside(MemoryWindow, address, last) || Inside(PrefetchableWindow, address, last));
    }

    /// <summary>A function on the secondary bus went away without the slot removing it (a rolled-back realize, teardown).</summary>
    internal virtual void SecondaryDetached(PciDevice device)
    {
    }

    /// <summary>Refuses an address on the secondary bus the bridge cannot reach.</summary>
    internal void CheckSecondaryAddress(PciDevice device, int? slot, int function)
    {
        if (SingleSlot && slot is > 0)
            throw new DeviceRealizeException($"PCI: slot {slot} function {function} not available for {device.TypeName}, bus '{_secondary.Name}' is a PCI Express port with only slot 0");
    }

    internal override PciBridgeInfo? DescribeBridge()
    {
        var secondary = SecondaryBusNumber;
        var bus = new PciBusInfo(
            PrimaryBusNumber,
            secondary,
            SubordinateBusNumber,
            Range(IoWindow),
            Range(MemoryWindow),
            Range(PrefetchableWindow));
        // As QEMU's qmp_query_pci_bridge: the functions behind only once the bus has a number.
        return new PciBridgeInfo(bus, secondary == 0 ? null : [.. _secondary.Devices.Select(d => d.Describe())]);
    }

    /// <summary>The bridge's own registers (Express capability, slot), after the type-1 header is set up.</summary>
    protected virtual void RealizeBridge(RealizeScope scope)
    {
    }

    /// <inheritdoc/>
    protected sealed override void RealizePci(RealizeScope scope)
    {
        // QEMU's pci_init_wmask_bridge, pci_init_w1cmask and the type bits the windows report.
        WritableMask.Slice(PrimaryBusRegister, 4).Fill(0xFF);
        WritableMask[IoBase] = IoRangeMask;
        WritableMask[IoLimit] = IoRangeMask;
        SetWord(WritableMask, MemoryBase, MemoryRangeMask);
        SetWord(WritableMask, MemoryLimit, MemoryRangeMask);
        SetWord(WritableMask, PrefetchableBase, MemoryRangeMask);
        SetWord(WritableMask, PrefetchableLimit, MemoryRangeMask);
        WritableMask.Slice(PrefetchableBaseUpper32, 8).Fill(0xFF);
        SetWord(WritableMask, BridgeControl, BridgeControlWritable);
        SetWord(WriteOneToClearMask, SecondaryStatus, StatusWriteOneToClear);
        Config[PrefetchableBase] |= (byte)PrefetchableRangeType64;
        Config[PrefetchableLimit] |= (byte)PrefetchableRangeType64;
        CheckedMask[IoBase] |= 0x0F;
        CheckedMask[IoLimit] |= 0x0F;
        CheckedMask[PrefetchableBase] |= 0x0F;
        CheckedMask[PrefetchableLimit] |= 0x0F;
        RealizeBridge(scope);
    }

    /// <inheritdoc/>
    protected override void OnReset()
    {
        // QEMU's pci_bridge_reset and pci_bridge_disable_base_limit: no bus numbers, every window closed
        // (base above limit), bridge control clear; then the bus reset reaches every function behind.
        Config[PrimaryBusRegister] = 0;
        Config[SecondaryBusRegister] = 0;
        Config[SubordinateBusRegister] = 0;
        Config[SecondaryLatencyTimer] = 0;
        Config[IoBase] = (byte)((Config[IoBase] & 0x0F) | IoRangeMask);
        Config[IoLimit] &= 0x0F;
        SetWord(Config, MemoryBase, MemoryRangeMask);
        SetWord(Config, MemoryLimit, 0);
        SetWord(Config, PrefetchableBase, (ushort)(MemoryRangeMask | PrefetchableRangeType64));
        SetWord(Config, PrefetchableLimit, PrefetchableRangeType64);
        Config.Slice(PrefetchableBaseUpper32, 8).Clear();
        SetWord(Config, BridgeControl, 0);
        ResetSecondary();
    }

    /// <inheritdoc/>
    protected override void WriteConfig(int offset, int size, uint value)
    {
        var oldControl = Word(BridgeControl);
        base.WriteConfig(offset, size, value);
        var control = Word(BridgeControl);
        if ((control & ~oldControl & BridgeControlBusReset) != 0)
            ResetSecondary();
        // The command register, the bus numbers and the windows decide what the CPU reaches behind the bridge.
        if (Overlaps(offset, size, Command, 2) || Overlaps(offset, size, PrimaryBusRegister, IoLimitUpper16 + 2 - PrimaryBusRegister) || Overlaps(offset, size, BridgeControl, 2))
            Bus?.Host.RefreshForwarding();
    }

    /// <inheritdoc/>
    protected override void LoadDeviceState(BinaryReader reader, int version) => Bus?.Host.RefreshForwarding();

    /// <summary>Resets every function behind the bridge (PCI RST# on the secondary bus).</summary>
    protected void ResetSecondary()
    {
        foreach (var device in _secondary.Devices)
            device.Reset();
    }

    private static bool Inside((ulong Base, ulong Limit) window, ulong first, ulong last) =>
        window.Base <= window.Limit && first >= window.Base && last <= window.Limit;

    private static PciMemoryRange Range((ulong Base, ulong Limit) window) => new((long)window.Base, (long)window.Limit);

    private static bool Overlaps(int offset, int size, int start, int length) => offset < start + length && start < offset + size;

    private static void SetWord(Span<byte> bytes, int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(bytes[offset..], value);

    private ushort Word(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(Config[offset..]);

    private uint DWord(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(Config[offset..]);
}
