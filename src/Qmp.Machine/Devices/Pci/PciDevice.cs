using System.Buffers.Binary;
using Qmp.Machine.Devices.Pc;
using static Qmp.Machine.Devices.Pci.PciConfigRegisters;

namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// A function on the PCI bus (QEMU's PCIDevice): the 256-byte configuration space with QEMU's
/// writable, write-one-to-clear and checked masks, base address registers that map their region into
/// memory or port space while the command register enables decoding, a capability list, and INTx
/// through the host's PIRQ routing with the interrupt-status and interrupt-disable bits.
/// </summary>
/// <remarks>
/// Set <see cref="Bus"/> (or use <see cref="PciHost.Plug(PciDevice)"/>) before realizing. Realize builds
/// the configuration space from the identity properties, claims the slot, then lets the subclass
/// register BARs and capabilities in <see cref="RealizePci"/>; every step is undone on failure and on
/// unrealize. A BAR the guest programs over something already mapped stays unmapped (QEMU would
/// overlay it) and is mapped once the range frees up; it never raises an exception into the guest.
/// Used on the machine thread.
/// </remarks>
public abstract partial class PciDevice : Device, IStatefulDevice
{
    private const int BarCount = 6;
    private const int PinCount = 4;
    private const int CurrentVersion = 1;

    // Below RAM and firmware: QEMU's PCI address space sits under system memory at priority -1.
    private const int BarPriority = -1;

    private readonly byte[] _config = new byte[SpaceSize];
    private readonly byte[] _wmask = new byte[SpaceSize];
    private readonly byte[] _w1cmask = new byte[SpaceSize];
    private readonly byte[] _cmask = new byte[SpaceSize];
    private readonly bool[] _used = new bool[SpaceSize];
    private readonly PciBar?[] _bars = new PciBar?[BarCount];
    private PciBus? _bus;
    private int? _slot;
    private int _function;
    private bool _multifunction;
    private int _devfn = -1;
    private int _irqState;
    private DeviceContext? _context;

    /// <summary>The bus to plug into (QEMU's <c>bus</c>): <c>pci.0</c> or a bridge's secondary bus; <see cref="PciHost.Plug(PciDevice)"/> sets it.</summary>
    public PciBus? Bus
    {
        get => _bus;
        set
        {
            CheckNotRealized("bus");
            _bus = value;
        }
    }

    /// <summary>The slot 0..31 (the device part of QEMU's <c>addr</c>); null takes the first free slot.</summary>
    public int? Slot
    {
        get => _slot;
        set
        {
            CheckNotRealized("addr");
            _slot = value;
        }
    }

    /// <summary>The function 0..7 (the function part of QEMU's <c>addr</c>); ignored when <see cref="Slot"/> is null.</summary>
    public int Function
    {
        get => _function;
        set
        {
            CheckNotRealized("addr");
            _function = value;
        }
    }

    /// <summary>QEMU's <c>multifunction</c>: sets the header-type bit so the guest scans functions 1..7.</summary>
    public bool Multifunction
    {
        get => _multifunction;
        set
        {
            CheckNotRealized("multifunction");
            _multifunction = value;
        }
    }

    /// <summary>Where the device sits while realized; null otherwise.</summary>
    public PciAddress? Address => _devfn < 0 ? null : new PciAddress(_devfn >> 3, _devfn & 7);

    /// <summary>
    /// QEMU's section id: the device path and the state name, e.g. <c>0000:00:03.0/virtio-rng</c>, or
    /// <c>0000:00:02.0:00.0/virtio-blk</c> behind the bridge at 00:02.0.
    /// </summary>
    public string SectionName => Address is { } address && _bus is { } bus ? $"{bus.DevicePath(address)}/{StateName}" : StateName;

    /// <summary>Whether device_add created the device while the machine ran (QEMU's <c>hotplugged</c> QOM property); the board sets it before realize.</summary>
    public bool Hotplugged { get; internal set; }

    /// <inheritdoc/>
    public virtual int StateVersion => CurrentVersion;

    /// <summary>The vendor id register.</summary>
    protected abstract ushort VendorId { get; }

    /// <summary>The device id register.</summary>
    protected abstract ushort DeviceId { get; }

    /// <summary>Class and subclass (QEMU's class_id), e.g. 0x0600 for a host bridge.</summary>
    protected abstract ushort ClassId { get; }

    /// <summary>The programming interface byte of the class code.</summary>
    protected virtual byte ProgIf => 0;

    /// <summary>The revision id register.</summary>
    protected virtual byte Revision => 0;

    /// <summary>The subsystem vendor id; QEMU's default is Red Hat/Qumranet.</summary>
    protected virtual ushort SubsystemVendorId => DefaultSubsystemVendorId;

    /// <summary>The subsystem id; QEMU's default is 0x1100.</summary>
    protected virtual ushort SubsystemId => DefaultSubsystemId;

    /// <summary>The interrupt pin register: 0 for none, 1..4 for INTA..INTD.</summary>
    protected virtual byte InterruptPin => 0;

    /// <summary>The header layout in the header type register: 0 for a function, 1 for a PCI-to-PCI bridge.</summary>
    protected virtual byte HeaderLayout => 0;

    /// <summary>The state name in <see cref="SectionName"/> (QEMU's vmsd name); the type name by default.</summary>
    protected virtual string StateName => TypeName;

    /// <summary>The configuration space; subclasses set their registers here while realizing.</summary>
    protected Span<byte> Config => _config;

    /// <summary>Which configuration bits the guest may write; subclasses open their own registers.</summary>
    protected Span<byte> WritableMask => _wmask;

    /// <summary>Which configuration bits a guest write of 1 clears.</summary>
    protected Span<byte> WriteOneToClearMask => _w1cmask;

    /// <summary>Which read-only configuration bits a state load must find equal (QEMU's cmask); clear it for bits that change at run time.</summary>
    protected Span<byte> CheckedMask => _cmask;

    /// <summary>The board the device is realized on.</summary>
    protected DeviceContext Context => _context ?? throw new InvalidOperationException($"{TypeName} is not realized");

    internal bool IrqAsserted => _irqState != 0;

    private bool IrqDisabled => (ReadWord(_config, Command) & CommandIntxDisable) != 0;

    /// <summary>
    /// PCI reset (RST#): the subclass's <see cref="OnReset"/>, then QEMU's pci_do_device_reset: INTx
    /// deasserted, writable command and status bits, cache line size and interrupt line cleared, BARs
    /// back to their type bits and unmapped. Nothing happens if the device is not realized.
    /// </summary>
    public void Reset()
    {
        if (Realized)
            ResetCore();
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        var config = _config.ToArray();
        // As QEMU: the interrupt status bit is implied by the saved INTx state.
        config[Status] &= unchecked((byte)~StatusInterrupt);
        writer.Write(config);
        writer.Write((byte)_irqState);
        SaveDeviceState(writer);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidDataException">The version is unknown, or the read-only registers differ from this device's (another device type).</exception>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, StateVersion);
        if (!Realized)
            throw new InvalidOperationException($"{TypeName} must be realized before its state is loaded");
        var config = reader.ReadBytes(SpaceSize);
        if (config.Length != SpaceSize)
            throw new InvalidDataException($"section '{SectionName}': truncated configuration space");
        var irqState = reader.ReadByte();
        if ((irqState & ~((1 << PinCount) - 1)) != 0)
            throw new InvalidDataException($"section '{SectionName}': bad INTx state {irqState:#x}");
        for (var i = 0; i < SpaceSize; i++)
        {
            if (((config[i] ^ _config[i]) & _cmask[i] & ~_wmask[i] & ~_w1cmask[i]) != 0)
                throw new InvalidDataException($"section '{SectionName}': configuration byte {i:#x} is {config[i]:#x}, this device has {_config[i]:#x}");
        }
        var oldLevels = IrqDisabled ? 0 : _irqState;
        config.CopyTo(_config, 0);
        _irqState = irqState;
        var newLevels = IrqDisabled ? 0 : _irqState;
        for (var pin = 0; pin < PinCount; pin++)
        {
            var change = ((newLevels >> pin) & 1) - ((oldLevels >> pin) & 1);
            if (change != 0)
                PropagateIrq(pin, change);
        }
        UpdateIrqStatus();
        UpdateMappings();
        LoadDeviceState(reader, version);
    }

    internal uint HostConfigRead(int offset, int size) => ReadConfig(offset, size);

    internal void HostConfigWrite(int offset, int size, uint value) => WriteConfig(offset, size, value);

    internal PciDeviceInfo Describe()
    {
        var bus = _bus?.Number ?? 0;
        var address = Address ?? throw new InvalidOperationException($"{TypeName} is not on a bus");
        var classId = ReadWord(_config, ClassDevice);
        var normalHeader = (_config[HeaderType] & ~HeaderTypeMultiFunction) == 0;
        var pin = _config[InterruptPinRegister];
        var regions = new List<PciMemoryRegion>();
        foreach (var bar in _bars)
        {
            if (bar is null)
                continue;
            var decoded = bar.Address == PciBar.Unmapped ? PciMemoryRegion.UnmappedAddress : (long)bar.Address;
            regions.Add(bar.IsIo
                ? new PciMemoryRegion(bar.Index, "io", decoded, (long)bar.Size, null, null)
                : new PciMemoryRegion(bar.Index, "memory", decoded, (long)bar.Size, bar.Prefetchable, bar.Is64));
        }
        var id = new PciDeviceId(
            ReadWord(_config, VendorIdRegister),
            ReadWord(_config, DeviceIdRegister),
            normalHeader ? ReadWord(_config, SubsystemIdRegister) : null,
            normalHeader ? ReadWord(_config, SubsystemVendorIdRegister) : null);
        return new PciDeviceInfo(
            bus,
            address.Slot,
            address.Function,
            new PciDeviceClass(classId, PciClassDescriptions.Find(classId)),
            id,
            pin != 0 ? _config[InterruptLineRegister] : null,
            pin,
            Id ?? "",
            regions)
        {
            PciBridge = DescribeBridge(),
        };
    }

    /// <summary>The <c>pci_bridge</c> member of query-pci; null for a function that is not a bridge.</summary>
    internal virtual PciBridgeInfo? DescribeBridge() => null;

    /// <summary>Registers BARs and capabilities, maps fixed resources, through <paramref name="scope"/>.</summary>
    protected virtual void RealizePci(RealizeScope scope)
    {
    }

    /// <summary>Device-specific reset, before the PCI registers are reset.</summary>
    protected virtual void OnReset()
    {
    }

    /// <summary>Writes the subclass's state after the configuration space.</summary>
    protected virtual void SaveDeviceState(BinaryWriter writer)
    {
    }

    /// <summary>Reads what <see cref="SaveDeviceState"/> wrote; the configuration space is already restored.</summary>
    protected virtual void LoadDeviceState(BinaryReader reader, int version)
    {
    }

    /// <summary>A configuration read of 1..4 bytes at <paramref name="offset"/> (inside the 256 bytes), little-endian.</summary>
    protected virtual uint ReadConfig(int offset, int size)
    {
        uint value = 0;
        for (var i = 0; i < size; i++)
            value |= (uint)_config[offset + i] << (i * 8);
        return value;
    }

    /// <summary>
    /// A configuration write (QEMU's pci_default_write_config): only writable bits change, write-one-to-clear
    /// bits clear, and BAR or command changes remap the BARs and re-evaluate INTx.
    /// </summary>
    protected virtual void WriteConfig(int offset, int size, uint value)
    {
        var wasIrqDisabled = IrqDisabled;
        for (var i = 0; i < size; i++, value >>= 8)
        {
            var data = (byte)value;
            var at = offset + i;
            _config[at] = (byte)((_config[at] & ~_wmask[at]) | (data & _wmask[at]));
            _config[at] &= (byte)~(data & _w1cmask[at]);
        }
        var command = Overlaps(offset, size, Command, 2);
        if (command || Overlaps(offset, size, Bar0, BarCount * 4) || Overlaps(offset, size, RomAddress, 4))
            UpdateMappings();
        if (command)
            UpdateIrqDisabled(wasIrqDisabled);
    }

    /// <summary>
    /// Adds a capability (QEMU's pci_add_capability with automatic placement): <paramref name="id"/>, the
    /// next pointer, then <paramref name="body"/>, at the first free dword-aligned room from 0x40, linked at
    /// the head of the list and read-only. Returns its offset.
    /// </summary>
    protected int AddCapability(byte id, ReadOnlySpan<byte> body)
    {
        if (_context is null)
            throw new InvalidOperationException($"{TypeName}: capabilities are added while the device realizes");
        var size = 2 + body.Length;
        var offset = FindSpace(size);
        if (offset == 0)
            throw new DeviceRealizeException($"{TypeName}: no room for a {size}-byte capability in configuration space");
        _config[offset] = id;
        _config[offset + 1] = _config[CapabilityList];
        _config[CapabilityList] = (byte)offset;
        _config[Status] |= (byte)StatusCapList;
        body.CopyTo(_config.AsSpan(offset + 2));
        _used.AsSpan(offset, Math.Min((size + 3) & ~3, SpaceSize - offset)).Fill(true);
        _wmask.AsSpan(offset, size).Clear();
        _cmask.AsSpan(offset, size).Fill(0xFF);
        _bus?.Host.Inject(this, PciRealizeStep.Capability);
        return offset;
    }

    /// <summary>Drives the device's interrupt pin (QEMU's pci_set_irq); ignored without a pin.</summary>
    protected void SetIrq(bool level)
    {
        var intx = _config[InterruptPinRegister] - 1;
        if (intx is >= 0 and < PinCount)
            SetIrqState(intx, level);
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        // QEMU's addr: slot << 3 | function, -1 for "any slot".
        new("addr", "int32", () => Slot is { } slot ? (slot << 3) | Function : -1, v =>
        {
            var value = Qom.QomValues.Int32(v, "addr");
            (Slot, Function) = value < 0 ? ((int?)null, 0) : (value >> 3, value & 7);
        }),
        new("multifunction", "bool", () => Multifunction, v => Multifunction = Qom.QomValues.Bool(v, "multifunction")),
    ];

    /// <inheritdoc/>
    protected sealed override void OnRealize(RealizeScope scope)
    {
        var bus = _bus ?? throw new DeviceRealizeException($"No 'PCI' bus found for device '{TypeName}'");
        InitConfigSpace();
        _context = scope.Context;
        try
        {
            _devfn = bus.Attach(this, _slot, _function, _multifunction);
        }
        catch
        {
            _context = null;
            throw;
        }
        scope.OnUndo(() =>
        {
            bus.Detach(this);
            _devfn = -1;
            _context = null;
        });
        bus.Host.Inject(this, PciRealizeStep.Attach);
        scope.OnUndo(UnmapBars);
        scope.OnUndo(DeassertIntx);
        bus.Host.Inject(this, PciRealizeStep.Irq);
        RealizePci(scope);
        bus.Host.Inject(this, PciRealizeStep.Realized);
        // A new function starts in its reset state, as QEMU resets every device before the guest runs.
        ResetCore();
    }

    private static ushort ReadWord(byte[] bytes, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset));

    private static bool Overlaps(int offset, int size, int start, int length) => offset < start + length && start < offset + size;

    private void InitConfigSpace()
    {
        Array.Clear(_config);
        Array.Clear(_wmask);
        Array.Clear(_w1cmask);
        Array.Clear(_cmask);
        Array.Clear(_used);
        Array.Clear(_bars);
        _irqState = 0;
        var config = _config.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(config[VendorIdRegister..], VendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(config[DeviceIdRegister..], DeviceId);
        config[RevisionId] = Revision;
        config[ClassProg] = ProgIf;
        BinaryPrimitives.WriteUInt16LittleEndian(config[ClassDevice..], ClassId);
        config[HeaderType] = (byte)(HeaderLayout | (_multifunction ? HeaderTypeMultiFunction : 0));
        // Only a type-0 header has subsystem ids there (a bridge's prefetchable window uppers sit at 0x2C).
        if (HeaderLayout == 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(config[SubsystemVendorIdRegister..], SubsystemVendorId);
            BinaryPrimitives.WriteUInt16LittleEndian(config[SubsystemIdRegister..], SubsystemId);
        }
        config[InterruptPinRegister] = InterruptPin;

        // QEMU's pci_init_cmask, pci_init_wmask and pci_init_w1cmask.
        var cmask = _cmask.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(cmask[VendorIdRegister..], 0xFFFF);
        BinaryPrimitives.WriteUInt16LittleEndian(cmask[DeviceIdRegister..], 0xFFFF);
        cmask[Status] = (byte)StatusCapList;
        cmask[RevisionId] = 0xFF;
        cmask[ClassProg] = 0xFF;
        BinaryPrimitives.WriteUInt16LittleEndian(cmask[ClassDevice..], 0xFFFF);
        cmask[HeaderType] = 0xFF;
        cmask[CapabilityList] = 0xFF;
        var wmask = _wmask.AsSpan();
        wmask[CacheLineSize] = 0xFF;
        wmask[InterruptLineRegister] = 0xFF;
        BinaryPrimitives.WriteUInt16LittleEndian(wmask[Command..], CommandIo | CommandMemory | CommandMaster | CommandIntxDisable | CommandSerr);
        wmask[HeaderSize..].Fill(0xFF);
        BinaryPrimitives.WriteUInt16LittleEndian(_w1cmask.AsSpan(Status), StatusWriteOneToClear);
    }

    private void ResetCore()
    {
        OnReset();
        DeassertIntx();
        ClearBits(Command, (ushort)(ReadWord(_wmask, Command) | ReadWord(_w1cmask, Command)));
        ClearBits(Status, (ushort)(ReadWord(_wmask, Status) | ReadWord(_w1cmask, Status)));
        _config[InterruptLineRegister] &= (byte)~(_wmask[InterruptLineRegister] | _w1cmask[InterruptLineRegister]);
        _config[CacheLineSize] = 0;
        foreach (var bar in _bars)
        {
            if (bar is null)
                continue;
            if (bar.Is64)
                BinaryPrimitives.WriteUInt64LittleEndian(_config.AsSpan(bar.ConfigOffset), (ulong)bar.Type);
            else
                BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(bar.ConfigOffset), (uint)bar.Type);
        }
        UpdateMappings();
    }

    private void ClearBits(int offset, ushort bits)
    {
        var value = ReadWord(_config, offset);
        BinaryPrimitives.WriteUInt16LittleEndian(_config.AsSpan(offset), (ushort)(value & ~bits));
    }

    // QEMU's pci_find_space: the first run of unused bytes after the header that fits.
    private int FindSpace(int size)
    {
        var offset = HeaderSize;
        for (var i = HeaderSize; i < SpaceSize; i++)
        {
            if (_used[i])
                offset = i + 1;
            else if (i - offset + 1 == size)
                return offset;
        }
        return 0;
    }

    // QEMU's pci_irq_handler: the status bit follows the device; the bus sees it unless INTx is disabled.
    private void SetIrqState(int intx, bool level)
    {
        var bit = 1 << intx;
        var change = (level ? 1 : 0) - ((_irqState & bit) != 0 ? 1 : 0);
        if (change == 0)
            return;
        _irqState = level ? _irqState | bit : _irqState & ~bit;
        UpdateIrqStatus();
        if (!IrqDisabled)
            PropagateIrq(intx, change);
    }

    private void UpdateIrqStatus()
    {
        if (_irqState != 0)
            _config[Status] |= (byte)StatusInterrupt;
        else
            _config[Status] &= unchecked((byte)~StatusInterrupt);
    }

    private void UpdateIrqDisabled(bool wasDisabled)
    {
        var disabled = IrqDisabled;
        if (disabled == wasDisabled)
            return;
        for (var pin = 0; pin < PinCount; pin++)
        {
            if ((_irqState & (1 << pin)) != 0)
                PropagateIrq(pin, disabled ? -1 : 1);
        }
    }

    private void PropagateIrq(int intx, int change)
    {
        if (_devfn >= 0)
            _bus?.ChangeIrqLevel(this, intx, change);
    }

    private void DeassertIntx()
    {
        for (var pin = 0; pin < PinCount; pin++)
            SetIrqState(pin, false);
    }
}
