using Qmp.Machine.Devices.Pc;
using Qmp.Memory;

namespace Qmp.Machine.Devices.Apic;

/// <summary>
/// The 82093AA-style I/O APIC (QEMU's <c>ioapic</c>) at 0xFEC00000: IOREGSEL at offset 0x00,
/// IOWIN at 0x10 and, in version 0x20, the EOI register at 0x40. Its 24 redirection entries
/// turn input pins into interrupt messages for <see cref="LocalApic"/>: edge-triggered pins on
/// each rising edge, level-triggered pins while asserted and remote IRR is clear, remote IRR
/// being set on delivery and cleared by the local APIC's EOI for that vector
/// (<see cref="EndOfInterrupt"/>). Polarity is stored but not applied, as in QEMU: board
/// lines are active high.
/// </summary>
public sealed class IoApic : Device, IStatefulDevice
{
    /// <summary>Where the registers sit on a PC.</summary>
    public const ulong DefaultBaseAddress = 0xFEC00000;

    /// <summary>The number of input pins and redirection entries.</summary>
    public const int PinCount = 24;

    private const int CurrentVersion = 1;
    private const int RedirectionBase = 0x10;
    private const ulong EntryVector = 0xFF;
    private const ulong EntryDeliveryStatus = 1UL << 12;
    private const ulong EntryRemoteIrr = 1UL << 14;
    private const ulong EntryLevelTriggered = 1UL << 15;
    private const ulong EntryMasked = 1UL << 16;
    private const ulong EntryLogical = 1UL << 11;
    private const ulong EntryReadOnly = EntryDeliveryStatus | EntryRemoteIrr;

    private readonly ulong[] _entries = new ulong[PinCount];
    private readonly IrqLine[] _inputs = new IrqLine[PinCount];

    private ulong _baseAddress = DefaultBaseAddress;
    private byte _version = 0x20;
    private LocalApic? _localApic;

    private byte _id;
    private byte _ioregsel;
    private uint _levels;  // the input pins' levels

    /// <summary>Creates the I/O APIC in its power-on state (every entry masked).</summary>
    public IoApic()
    {
        for (var i = 0; i < PinCount; i++)
        {
            var pin = i;
            _inputs[i] = new IrqLine(level => SetPin(pin, level));
        }
        Reset();
    }

    /// <inheritdoc/>
    public override string TypeName => "ioapic";

    /// <inheritdoc/>
    public string SectionName => "ioapic";

    /// <inheritdoc/>
    public int StateVersion => CurrentVersion;

    /// <summary>The guest-physical address of the 4 KiB register window (0xFEC00000); page aligned.</summary>
    public ulong BaseAddress
    {
        get => _baseAddress;
        set
        {
            CheckNotRealized(nameof(BaseAddress));
            _baseAddress = value;
        }
    }

    /// <summary>The version register's low byte (QEMU's <c>version</c>): 0x20 (with the EOI register, the default) or 0x11.</summary>
    public byte Version
    {
        get => _version;
        set
        {
            CheckNotRealized(nameof(Version));
            _version = value;
        }
    }

    /// <summary>The CPU's local APIC, which receives every message; null drops them.</summary>
    public LocalApic? LocalApic
    {
        get => _localApic;
        set
        {
            CheckNotRealized(nameof(LocalApic));
            _localApic = value;
        }
    }

    /// <summary>Input pin <paramref name="pin"/> (0..23).</summary>
    public IrqLine Input(int pin)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pin);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pin, PinCount);
        return _inputs[pin];
    }

    /// <summary>
    /// The EOI broadcast for <paramref name="vector"/>: clears remote IRR of the level-triggered
    /// entries with that vector, and delivers again those whose pin is still asserted.
    /// </summary>
    public void EndOfInterrupt(int vector)
    {
        for (var pin = 0; pin < PinCount; pin++)
        {
            var entry = _entries[pin];
            if ((int)(entry & EntryVector) != vector || (entry & EntryLevelTriggered) == 0 || (entry & EntryRemoteIrr) == 0)
                continue;
            _entries[pin] = entry & ~EntryRemoteIrr;
            Service(pin);
        }
    }

    /// <summary>System reset: ID 0, IOREGSEL 0, every entry masked, edge-triggered, vector 0.</summary>
    public void Reset()
    {
        _id = 0;
        _ioregsel = 0;
        Array.Fill(_entries, EntryMasked);
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_id);
        writer.Write(_ioregsel);
        writer.Write(_levels);
        foreach (var entry in _entries)
            writer.Write(entry);
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, CurrentVersion);
        _id = (byte)(reader.ReadByte() & 0xF);
        _ioregsel = reader.ReadByte();
        _levels = reader.ReadUInt32() & ((1u << PinCount) - 1);
        for (var i = 0; i < PinCount; i++)
            _entries[i] = reader.ReadUInt64();
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        new("version", "uint8", () => (long)Version, v => Version = checked((byte)Qom.QomValues.UInt32(v, "version"))),
    ];

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        if (_version is not (0x11 or 0x20))
            throw new DeviceRealizeException("IOAPIC only supports version 0x11 or 0x20 (default: 0x20).");
        if ((_baseAddress & 0xFFF) != 0)
            throw new DeviceRealizeException($"{TypeName}: base address {_baseAddress:#x} is not page aligned");
        // Priority 1: above RAM, like the local APIC page.
        scope.MapMemory(_baseAddress, MemoryRegion.Io("ioapic", 0x1000, new DelegateIoHandler(Read, Write)), priority: 1);
    }

    // QEMU decodes only the low byte of the offset, so the three registers repeat every 256 bytes.
    private ulong Read(ulong offset, int size)
    {
        switch (offset & 0xFF)
        {
            case 0x00:
                return _ioregsel;
            case 0x10 when size == 4:
                return ReadRegister();
            default:
                return 0;
        }
    }

    private void Write(ulong offset, int size, ulong value)
    {
        switch (offset & 0xFF)
        {
            case 0x00:
                _ioregsel = (byte)value;
                break;
            case 0x10 when size == 4:
                WriteRegister((uint)value);
                break;
            case 0x40 when size == 4 && _version == 0x20:
                EndOfInterrupt((int)(value & 0xFF));
                break;
        }
    }

    private uint ReadRegister()
    {
        switch (_ioregsel)
        {
            case 0x00 or 0x02:
                return (uint)_id << 24;  // the arbitration ID reads as the APIC ID, as in QEMU
            case 0x01:
                return (uint)(_version | ((PinCount - 1) << 16));
            case >= RedirectionBase and < RedirectionBase + 2 * PinCount:
                var entry = _entries[(_ioregsel - RedirectionBase) >> 1];
                return (_ioregsel & 1) != 0 ? (uint)(entry >> 32) : (uint)entry;
            default:
                return 0;
        }
    }

    private void WriteRegister(uint value)
    {
        switch (_ioregsel)
        {
            case 0x00:
                _id = (byte)((value >> 24) & 0xF);
                break;
            case >= RedirectionBase and < RedirectionBase + 2 * PinCount:
                WriteRedirection((_ioregsel - RedirectionBase) >> 1, high: (_ioregsel & 1) != 0, value);
                break;
        }
    }

    private void WriteRedirection(int pin, bool high, uint value)
    {
        var old = _entries[pin];
        var entry = high
            ? (old & 0xFFFFFFFFUL) | ((ulong)value << 32)
            : (old & ~0xFFFFFFFFUL) | value;
        entry = (entry & ~EntryReadOnly) | (old & EntryReadOnly);
        // Remote IRR has no meaning for an edge-triggered entry.
        if ((entry & EntryLevelTriggered) == 0)
            entry &= ~EntryRemoteIrr;
        _entries[pin] = entry;
        // A level-triggered pin asserted while masked is delivered once unmasked.
        Service(pin);
    }

    private void SetPin(int pin, bool level)
    {
        var mask = 1u << pin;
        var rising = level && (_levels & mask) == 0;
        if (level)
            _levels |= mask;
        else
            _levels &= ~mask;
        var entry = _entries[pin];
        // Edges arriving while masked are lost (82093AA); edge entries only see rising edges.
        if ((entry & EntryLevelTriggered) == 0)
        {
            if (rising && (entry & EntryMasked) == 0)
                Send(entry);
        }
        else
            Service(pin);
    }

    // Delivers a level-triggered pin if it is asserted, unmasked and not awaiting its EOI.
    private void Service(int pin)
    {
        var entry = _entries[pin];
        if ((entry & EntryLevelTriggered) == 0 || (entry & (EntryMasked | EntryRemoteIrr)) != 0 || (_levels & (1u << pin)) == 0)
            return;
        _entries[pin] = entry | EntryRemoteIrr;
        Send(entry);
    }

    private void Send(ulong entry)
    {
        var apic = _localApic;
        if (apic is null || !apic.AcceptsDestination((int)(entry >> 56), (entry & EntryLogical) != 0))
            return;
        switch ((int)(entry >> 8) & 7)
        {
            case 0 or 1:  // fixed, lowest priority (one CPU)
                apic.Deliver((int)(entry & EntryVector), (entry & EntryLevelTriggered) != 0);
                break;
            case 4:
                apic.DeliverNmi();
                break;
            case 7:
                apic.DeliverExtInt();
                break;
            default:
                // SMI (no SMM), INIT (the CPU's business) and reserved modes deliver nothing.
                break;
        }
    }
}
