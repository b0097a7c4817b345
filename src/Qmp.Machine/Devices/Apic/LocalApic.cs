using Qmp.Cpu.X86;
using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Timers;
using Qmp.Memory;

namespace Qmp.Machine.Devices.Apic;

/// <summary>
/// The local APIC of the one CPU (QEMU's <c>apic</c>) in xAPIC mode: the 4 KiB register page at
/// 0xFEE00000, the interrupt request/in-service/trigger-mode registers with task and processor
/// priorities, the local vector table, the timer (one-shot and periodic, counted from virtual
/// time, or TSC-deadline mode through IA32_TSC_DEADLINE) and self IPIs, as the Intel SDM vol. 3 ch. 10
/// describes them. It drives the CPU's INTR pin itself (<see cref="IsPending"/> and
/// <see cref="Acknowledge"/>): its own vectors, or the 8259 pair's (<see cref="ExtIntSource"/>)
/// when LINT0 is in ExtINT mode, which it is after reset (virtual wire mode), so a guest that
/// never touches the APIC sees the PIC as on a machine without one. The timer counts a 1 GHz
/// bus clock (one tick per virtual nanosecond, as QEMU's) through the divider; a count of N
/// interrupts after N ticks and, periodic, every N ticks.
/// </summary>
public sealed partial class LocalApic : Device, IInterruptLine, IStatefulDevice
{
    /// <summary>Where the register page sits after reset (IA32_APIC_BASE's default base).</summary>
    public const ulong DefaultBaseAddress = 0xFEE00000;

    private const int CurrentVersion = 1;
    private const uint VersionRegister = 0x00050014;  // version 0x14, max LVT entry 5, as QEMU

    // LVT entries in register order (0x320..0x370): timer, thermal, performance, LINT0, LINT1, error.
    private const int LvtTimer = 0, LvtLint0 = 3, LvtError = 5;
    private const int LvtCount = 6;
    private const uint LvtVector = 0xFF;
    private const uint LvtMode = 0x700;
    private const uint LvtRemoteIrr = 1u << 14;
    private const uint LvtLevelTriggered = 1u << 15;
    private const uint LvtMasked = 1u << 16;
    private const uint LvtPeriodic = 1u << 17;
    private const uint Lint0Reset = 0x700;  // ExtINT, unmasked: QEMU's BSP reset value (virtual wire)

    private const int ModeFixed = 0, ModeLowestPriority = 1, ModeNmi = 4, ModeExtInt = 7;

    private const uint SvrWritable = 0x1FF;
    private const uint SvrEnabled = 1u << 8;
    private const uint SvrReset = 0xFF;
    private const uint IcrLowWritable = 0x000CCFFF;  // delivery status (bit 12) always reads idle
    private const uint IcrDestinationLogical = 1u << 11;
    private const uint DivideWritable = 0xB;

    private const uint EsrSendIllegalVector = 1u << 5;
    private const uint EsrReceiveIllegalVector = 1u << 6;
    private const uint EsrIllegalRegister = 1u << 7;

    // Writable bits of each LVT entry (SDM figure 10-8): the timer has no delivery mode and only
    // the timer mode bits 17-18 (one-shot, periodic, TSC-deadline), LINTs add polarity
    // and trigger mode; remote IRR and delivery status are read-only.
    private static readonly uint[] _lvtWritable = [0x700FF, 0x107FF, 0x107FF, 0x1A7FF, 0x1A7FF, 0x100FF];
    private const uint LvtTimerModeMask = 3u << 17;
    private const uint LvtTscDeadline = 2u << 17;

    // IA32_TSC_DEADLINE: the TSC value and the virtual time it corresponds to (0: disarmed).
    private ulong _tscDeadline;
    private long _tscDeadlineTime;

    private readonly ApicVectorSet _irr = new();
    private readonly ApicVectorSet _isr = new();
    private readonly ApicVectorSet _tmr = new();
    private readonly uint[] _lvt = new uint[LvtCount];
    private readonly bool[] _lintLevel = new bool[2];

    private ulong _baseAddress = DefaultBaseAddress;
    private byte _apicId;
    private IInterruptLine? _extIntSource;

    private bool _hardwareEnabled = true;
    private byte _id;
    private byte _tpr;
    private uint _svr;
    private byte _ldr;
    private byte _dfrModel;
    private uint _esr;
    private uint _pendingErrors;
    private uint _icrLow;
    private uint _icrHigh;
    private uint _divideConfig;
    private uint _initialCount;
    private long _countStart;      // virtual ns at which the count (re)started from the initial count
    private bool _extIntRequested; // an ExtINT message (I/O APIC, LINT1) waits for the INTA cycle

    private IDeviceClock? _clock;
    private MachineTimer? _timer;

    /// <summary>Creates the APIC in its power-on state.</summary>
    public LocalApic()
    {
        Lint0 = new IrqLine(level => SetLint(0, level));
        Lint1 = new IrqLine(level => SetLint(1, level));
        ResetRegisters();
    }

    /// <inheritdoc/>
    public override string TypeName => "apic";

    /// <inheritdoc/>
    public string SectionName => "apic";

    /// <inheritdoc/>
    public int StateVersion => CurrentVersion;

    /// <summary>The guest-physical address of the register page (0xFEE00000); page aligned.</summary>
    public ulong BaseAddress
    {
        get => _baseAddress;
        set
        {
            CheckNotRealized(nameof(BaseAddress));
            _baseAddress = value;
        }
    }

    /// <summary>The APIC ID after reset (QEMU's <c>id</c>, 0 for the only CPU); 255 is refused at realize.</summary>
    public byte ApicId
    {
        get => _apicId;
        set
        {
            CheckNotRealized(nameof(ApicId));
            _apicId = value;
            _id = value;
        }
    }

    /// <summary>
    /// The controller behind ExtINT delivery (the 8259 pair): its request passes through while
    /// LINT0 is an unmasked ExtINT entry or the APIC is hardware-disabled, and its INTA cycle
    /// supplies the vector. Null leaves ExtINT with nothing to deliver.
    /// </summary>
    public IInterruptLine? ExtIntSource
    {
        get => _extIntSource;
        set
        {
            CheckNotRealized(nameof(ExtIntSource));
            _extIntSource = value;
        }
    }

    /// <summary>
    /// IA32_APIC_BASE's global enable bit, which the CPU owns and the board mirrors here. While
    /// clear the register page reads 0 and ignores writes, no APIC interrupt is delivered, and
    /// LINT0/LINT1 act as the CPU's INTR and NMI pins (the PIC passes through). Clearing it returns
    /// the APIC to its power-up state (SDM 10.4.3); <see cref="Reset"/> sets it again.
    /// </summary>
    public bool HardwareEnabled
    {
        get => _hardwareEnabled;
        set
        {
            if (value == _hardwareEnabled)
                return;
            if (!value)
                ResetRegisters();
            _hardwareEnabled = value;
            Notify();
        }
    }

    /// <summary>The LINT0 input pin; the board pulses it when the PIC raises INTR.</summary>
    public IrqLine Lint0 { get; }

    /// <summary>The LINT1 input pin (the NMI pin on a PC once the BIOS programs LINT1 for NMI).</summary>
    public IrqLine Lint1 { get; }

    /// <summary>
    /// The INTR output: an APIC vector outranks the processor priority, or an ExtINT request
    /// from <see cref="ExtIntSource"/> is routed through.
    /// </summary>
    public bool IsPending => ExtIntPending || DeliverableVector() >= 0;

    /// <summary>Test seam: the clock and timers to use instead of the board's.</summary>
    internal IDeviceClock? ClockOverride { get; set; }

    /// <summary>Raised when an interrupt may have become deliverable (wire it to the CPU's NotifyInterruptRequest).</summary>
    public event Action? InterruptRequested;

    /// <summary>Raised when an NMI is delivered (LINT0/LINT1 in NMI mode, an NMI IPI or I/O APIC entry).</summary>
    public event Action? NmiRequested;

    /// <summary>
    /// Raised with the vector when the guest EOIs a level-triggered interrupt: the EOI message
    /// the APIC broadcasts to I/O APICs (wire it to <see cref="IoApic.EndOfInterrupt"/>).
    /// </summary>
    public event Action<int>? EndOfInterruptBroadcast;

    private long Now => _clock?.Now ?? 0;

    private bool SoftwareEnabled => (_svr & SvrEnabled) != 0;

    // The PIC's request reaches INTR directly: QEMU's apic_accept_pic_intr, restricted to ExtINT.
    private bool PicRouted => !_hardwareEnabled || (_lvt[LvtLint0] & (LvtMasked | LvtMode)) == (uint)ModeExtInt << 8;

    private bool ExtIntPending => _extIntSource is { IsPending: true } && (PicRouted || _extIntRequested);

    private int Ppr
    {
        get
        {
            var isrv = Math.Max(_isr.Highest(), 0);
            return (_tpr >> 4) >= (isrv >> 4) ? _tpr : isrv & 0xF0;
        }
    }

    // Divide configuration bits 0, 1 and 3 select 2, 4, ..., 128, then 1.
    private int DivideShift => (int)(((_divideConfig & 3) | ((_divideConfig >> 1) & 4)) + 1) & 7;

    /// <summary>
    /// The interrupt-acknowledge cycle. An ExtINT request is served first (it ignores priority,
    /// as in QEMU) by the source's own INTA; otherwise the highest deliverable vector moves from
    /// IRR to ISR. If nothing is deliverable any more (the TPR rose after INTR), the spurious
    /// vector of the spurious-interrupt register is returned and no ISR bit is set.
    /// </summary>
    public int Acknowledge()
    {
        if (ExtIntPending)
        {
            _extIntRequested = false;
            return _extIntSource!.Acknowledge();
        }
        var vector = DeliverableVector();
        if (vector >= 0)
        {
            _irr.Remove(vector);
            _isr.Add(vector);
            return vector;
        }
        if (PicRouted && _extIntSource is not null)
            return _extIntSource.Acknowledge();
        return (int)(_svr & 0xFF);
    }

    /// <summary>
    /// A fixed (or lowest-priority: there is one CPU) interrupt message, as the I/O APIC sends:
    /// sets the IRR bit, and the TMR bit when <paramref name="levelTriggered"/> so that the EOI
    /// is broadcast. Vectors 0..15 are refused with a receive-illegal-vector error. Dropped while
    /// the APIC is hardware-disabled.
    /// </summary>
    public void Deliver(int vector, bool levelTriggered)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vector);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vector, 255);
        if (_hardwareEnabled)
            Accept(vector, levelTriggered);
    }

    /// <summary>An NMI message: raises <see cref="NmiRequested"/> unless the APIC is hardware-disabled.</summary>
    public void DeliverNmi()
    {
        if (_hardwareEnabled)
            NmiRequested?.Invoke();
    }

    /// <summary>An ExtINT message: the next INTA cycle goes to <see cref="ExtIntSource"/> while it has a request.</summary>
    public void DeliverExtInt()
    {
        if (!_hardwareEnabled)
            return;
        _extIntRequested = true;
        Notify();
    }

    /// <summary>
    /// Whether a message for <paramref name="destination"/> reaches this APIC: physical mode
    /// matches the APIC ID, logical mode the logical destination register under the flat or
    /// cluster model; 0xFF is a broadcast in both.
    /// </summary>
    public bool AcceptsDestination(int destination, bool logical)
    {
        if (destination == 0xFF)
            return true;
        if (!logical)
            return destination == _id;
        return _dfrModel switch
        {
            0xF => (destination & _ldr) != 0,
            0x0 => (destination & 0xF0) == (_ldr & 0xF0) && (destination & _ldr & 0x0F) != 0,
            _ => false,
        };
    }

    /// <summary>
    /// System reset: hardware-enabled, software-disabled (spurious register 0xFF), every LVT
    /// entry masked except LINT0 in ExtINT mode, timer stopped, no request or service pending.
    /// </summary>
    public void Reset()
    {
        _hardwareEnabled = true;
        ResetRegisters();
        Notify();
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        writer.Write(_hardwareEnabled);
        writer.Write(_id);
        writer.Write(_tpr);
        writer.Write(_svr);
        writer.Write(_ldr);
        writer.Write(_dfrModel);
        _isr.Save(writer);
        _tmr.Save(writer);
        _irr.Save(writer);
        writer.Write(_esr);
        writer.Write(_pendingErrors);
        writer.Write(_icrLow);
        writer.Write(_icrHigh);
        foreach (var entry in _lvt)
            writer.Write(entry);
        writer.Write(_divideConfig);
        writer.Write(_initialCount);
        writer.Write(_countStart);
        writer.Write(_lintLevel[0]);
        writer.Write(_lintLevel[1]);
        writer.Write(_extIntRequested);
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, CurrentVersion);
        _hardwareEnabled = reader.ReadBoolean();
        _id = reader.ReadByte();
        _tpr = reader.ReadByte();
        _svr = reader.ReadUInt32() & SvrWritable;
        _ldr = reader.ReadByte();
        _dfrModel = (byte)(reader.ReadByte() & 0xF);
        _isr.Load(reader);
        _tmr.Load(reader);
        _irr.Load(reader);
        _esr = reader.ReadUInt32();
        _pendingErrors = reader.ReadUInt32();
        _icrLow = reader.ReadUInt32() & IcrLowWritable;
        _icrHigh = reader.ReadUInt32() & 0xFF000000;
        for (var i = 0; i < LvtCount; i++)
            _lvt[i] = reader.ReadUInt32() & (_lvtWritable[i] | LvtRemoteIrr);
        _divideConfig = reader.ReadUInt32() & DivideWritable;
        _initialCount = reader.ReadUInt32();
        _countStart = reader.ReadInt64();
        _lintLevel[0] = reader.ReadBoolean();
        _lintLevel[1] = reader.ReadBoolean();
        _extIntRequested = reader.ReadBoolean();
        UpdateTimer(Now);
        Notify();
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        new("id", "uint8", () => (long)ApicId, v => ApicId = checked((byte)Qom.QomValues.UInt32(v, "id"))),
    ];

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        if ((_baseAddress & 0xFFF) != 0)
            throw new DeviceRealizeException($"{TypeName}: base address {_baseAddress:#x} is not page aligned");
        if (_apicId == 0xFF)
            throw new DeviceRealizeException($"{TypeName} initialization failed. APIC ID {_apicId} is invalid");
        _clock = ClockOverride ?? new TimerQueueClock(scope.Context.Timers);
        var timer = _clock.CreateTimer(OnTimer);
        _timer = timer;
        scope.OnUndo(() =>
        {
            timer.Cancel();
            _timer = null;
        });
        // Priority 1: the page hides the RAM below it, as QEMU's APIC region does.
        scope.MapMemory(_baseAddress, MemoryRegion.Io("apic-msi", 0x1000, new DelegateIoHandler(Read, Write)), priority: 1);
        ResetRegisters();
    }

    /// <inheritdoc/>
    protected override void OnUnrealize()
    {
        _timer?.Cancel();
        _timer = null;
    }

    private void ResetRegisters()
    {
        _id = _apicId;
        _tpr = 0;
        _svr = SvrReset;
        _ldr = 0;
        _dfrModel = 0xF;
        _irr.Clear();
        _isr.Clear();
        _tmr.Clear();
        Array.Fill(_lvt, LvtMasked);
        _lvt[LvtLint0] = Lint0Reset;
        _esr = 0;
        _pendingErrors = 0;
        _icrLow = 0;
        _icrHigh = 0;
        _divideConfig = 0;
        _initialCount = 0;
        _countStart = Now;
        _extIntRequested = false;
        _timer?.Cancel();
    }

    // Registers are 32 bits wide on 16-byte boundaries. Other sizes read 0 and drop writes, as
    // in QEMU; so do accesses inside a register's 16 bytes, which also keeps the second half of
    // a split 8-byte write from, say, EOIing twice.
    private ulong Read(ulong offset, int size)
    {
        if (!_hardwareEnabled || size != 4 || (offset & 0xF) != 0)
            return 0;
        return ReadRegister((int)(offset >> 4));
    }

    private void Write(ulong offset, int size, ulong value)
    {
        if (!_hardwareEnabled || size != 4 || (offset & 0xF) != 0)
            return;
        WriteRegister((int)(offset >> 4), (uint)value);
    }

    private uint ReadRegister(int index)
    {
        switch (index)
        {
            case 0x02:
                return (uint)_id << 24;
            case 0x03:
                return VersionRegister;
            case 0x08:
                return _tpr;
            case 0x09:
                return 0;  // arbitration priority: QEMU reports 0 (no bus arbitration with one CPU)
            case 0x0A:
                return (uint)Ppr;
            case 0x0B:
                return 0;  // EOI is write-only
            case 0x0D:
                return (uint)_ldr << 24;
            case 0x0E:
                return ((uint)_dfrModel << 28) | 0x0FFFFFFF;
            case 0x0F:
                return _svr;
            case >= 0x10 and <= 0x17:
                return _isr.Word(index & 7);
            case >= 0x18 and <= 0x1F:
                return _tmr.Word(index & 7);
            case >= 0x20 and <= 0x27:
                return _irr.Word(index & 7);
            case 0x28:
                return _esr;
            case 0x30:
                return _icrLow;
            case 0x31:
                return _icrHigh;
            case >= 0x32 and <= 0x37:
                return _lvt[index - 0x32];
            case 0x38:
                return _initialCount;
            case 0x39:
                return CurrentCount(Now);
            case 0x3E:
                return _divideConfig;
            default:
                RecordError(EsrIllegalRegister);
                return 0;
        }
    }

    private void WriteRegister(int index, uint value)
    {
        switch (index)
        {
            case 0x02:
                _id = (byte)(value >> 24);
                break;
            case 0x03 or 0x09 or 0x0A or (>= 0x10 and <= 0x27) or 0x39:
                break;  // read-only
            case 0x08:
                _tpr = (byte)value;
                Notify();
                break;
            case 0x0B:
                EndOfInterrupt();
                break;
            case 0x0D:
                _ldr = (byte)(value >> 24);
                break;
            case 0x0E:
                _dfrModel = (byte)(value >> 28);
                break;
            case 0x0F:
                WriteSpuriousVector(value);
                break;
            case 0x28:
                // A write latches the errors seen since the previous write (SDM 10.5.3).
                _esr = _pendingErrors;
                _pendingErrors = 0;
                break;
            case 0x30:
                _icrLow = value & IcrLowWritable;
                SendIpi();
                break;
            case 0x31:
                _icrHigh = value & 0xFF000000;
                break;
            case >= 0x32 and <= 0x37:
                WriteLvt(index - 0x32, value);
                break;
            case 0x38:
                WriteInitialCount(value);
                break;
            case 0x3E:
                WriteDivideConfig(value);
                break;
            default:
                RecordError(EsrIllegalRegister);
                break;
        }
    }

    private void WriteSpuriousVector(uint value)
    {
        var wasEnabled = SoftwareEnabled;
        CatchUpTimer(Now);
        _svr = value & SvrWritable;
        if (wasEnabled && !SoftwareEnabled)
        {
            // Software disable masks every LVT entry (SDM 10.4.7.2); pending IRR/ISR bits stay.
            for (var i = 0; i < LvtCount; i++)
                _lvt[i] |= LvtMasked;
            UpdateTimer(Now);
        }
        Notify();
    }

    private void WriteLvt(int n, uint value)
    {
        var now = Now;
        if (n == LvtTimer)
            CatchUpTimer(now);
        var entry = (value & _lvtWritable[n]) | (_lvt[n] & LvtRemoteIrr);
        if (n == LvtTimer && ((entry ^ _lvt[n]) & LvtTimerModeMask) != 0)
        {
            // Changing the timer mode disarms it: the count and the deadline start afresh.
            _tscDeadline = 0;
            _initialCount = 0;
        }
        // While software-disabled the mask bits cannot be cleared (SDM 10.4.7.2).
        if (!SoftwareEnabled)
            entry |= LvtMasked;
        _lvt[n] = entry;
        switch (n)
        {
            case LvtTimer:
                UpdateTimer(now);
                break;
            case LvtLint0:
                // An unmasked level-triggered entry sees a pin already asserted; ExtINT sees the PIC.
                if (_lintLevel[0] && IsLevelTriggeredFixed(LvtLint0, entry))
                    Signal(LvtLint0);
                Notify();
                break;
        }
    }
}
