using Qmp.Machine.Timers;
using Qmp.Memory;

namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// The MC146818 real-time clock and its 128 bytes of CMOS (QEMU's <c>mc146818rtc</c>) at ports
/// 0x70 (index, bit 7 masks NMI) and 0x71 (data), interrupting on ISA IRQ 8. The time starts
/// from <see cref="InitialTime"/> (host UTC by default) at realize and then advances with the
/// virtual clock: the divider chain's second boundaries fall every virtual second after realize,
/// and the registers are computed from the count of boundaries passed, not ticked.
/// </summary>
public sealed class CmosRtc : Device, IStatefulDevice
{
    private const int CurrentVersion = 1;
    private const long NanosPerSecond = 1_000_000_000;
    private const long UipHold = 8 * NanosPerSecond / 32768;  // UIP rises 244 µs before the update

    private const int Seconds = 0x00, SecondsAlarm = 0x01, Minutes = 0x02, MinutesAlarm = 0x03;
    private const int Hours = 0x04, HoursAlarm = 0x05, DayOfWeek = 0x06, DayOfMonth = 0x07;
    private const int Month = 0x08, Year = 0x09, RegA = 0x0A, RegB = 0x0B, RegC = 0x0C, RegD = 0x0D;
    private const int Century = 0x32, Ps2Century = 0x37;

    private const byte AUip = 0x80;
    private const byte BSet = 0x80, BPie = 0x40, BAie = 0x20, BUie = 0x10, BSqwe = 0x08, BDm = 0x04, B24h = 0x02;
    private const byte CIrqf = 0x80, CPf = 0x40, CAf = 0x20, CUf = 0x10;

    private readonly byte[] _cmos = new byte[128];
    private ushort _ioBase = 0x70;
    private int _irqNumber = 8;
    private DateTime? _initialTime;
    private long _ramSize;
    private long? _ramBelow4G;

    private int _index;
    private bool _nmiMasked;
    private long _dividerOrigin;   // virtual ns; second boundaries fall at origin + k s, k >= 1
    private long _refSeconds;      // RTC time (Unix seconds) after boundary _refBoundary
    private long _refBoundary;
    private long _pfCheckedAt;     // PF is folded in lazily up to here while PIE is off

    private IDeviceClock? _clock;
    private MachineTimer? _updateTimer;
    private MachineTimer? _periodicTimer;
    private long _nextUpdate;
    private long _nextPeriodic;
    private IrqLine _irq = IrqLine.Unconnected;

    /// <inheritdoc/>
    public override string TypeName => "mc146818rtc";

    /// <inheritdoc/>
    public string SectionName => "mc146818rtc";

    /// <inheritdoc/>
    public int StateVersion => CurrentVersion;

    /// <summary>The index port; data is the next port (QEMU's <c>iobase</c>, 0x70).</summary>
    public ushort IoBase
    {
        get => _ioBase;
        set
        {
            CheckNotRealized(nameof(IoBase));
            _ioBase = value;
        }
    }

    /// <summary>The ISA interrupt (QEMU's <c>irq</c>, 8).</summary>
    public int Irq
    {
        get => _irqNumber;
        set
        {
            CheckNotRealized(nameof(Irq));
            _irqNumber = value;
        }
    }

    /// <summary>The date and time the clock starts from at realize; null takes the host's UTC time (QEMU's <c>-rtc base=utc</c>).</summary>
    public DateTime? InitialTime
    {
        get => _initialTime;
        set
        {
            CheckNotRealized(nameof(InitialTime));
            _initialTime = value;
        }
    }

    /// <summary>Guest RAM in bytes, written to the CMOS memory-size bytes at realize as a BIOS expects; 0 leaves them alone.</summary>
    public long RamSize
    {
        get => _ramSize;
        set
        {
            CheckNotRealized(nameof(RamSize));
            _ramSize = value;
        }
    }

    /// <summary>
    /// RAM mapped below 4 GiB; null applies pc-i440fx's split (all of it when under 3.5 GiB,
    /// else 3 GiB). Boards with another hole (q35) set it.
    /// </summary>
    public long? RamBelow4G
    {
        get => _ramBelow4G;
        set
        {
            CheckNotRealized(nameof(RamBelow4G));
            _ramBelow4G = value;
        }
    }

    /// <summary>Whether the last index write set bit 7 (NMI disabled).</summary>
    public bool NmiMasked => _nmiMasked;

    /// <summary>Test seam: the clock and timers to use instead of the board's.</summary>
    internal IDeviceClock? ClockOverride { get; set; }

    /// <summary>Raised when the guest sets the clock, with the new offset from host UTC in seconds (QEMU's RTC_CHANGE).</summary>
    public event Action<long>? GuestTimeChanged;

    private long Now => _clock?.Now ?? 0;

    private bool DividerRunning => (_cmos[RegA] & 0x70) <= 0x20;

    private bool Updating => DividerRunning && (_cmos[RegB] & BSet) == 0;

    private bool Binary => (_cmos[RegB] & BDm) != 0;

    /// <summary>A CMOS byte (0..127), as the board reads it.</summary>
    public byte GetCmosByte(int index)
    {
        CheckIndex(index);
        if (index < RegA && Updating)
            SyncRegisters(Now);
        return _cmos[index];
    }

    /// <summary>Sets a CMOS byte (0..127) directly, as board code fills in the BIOS configuration bytes.</summary>
    public void SetCmosByte(int index, byte value)
    {
        CheckIndex(index);
        _cmos[index] = value;
    }

    /// <summary>The clock's current date and time (QEMU's <c>rtc-time</c> property).</summary>
    public DateTime GetTime()
    {
        var seconds = Updating ? CurrentSeconds(Now) : RegisterSeconds();
        return DateTime.UnixEpoch.AddSeconds(Math.Clamp(seconds, 0, 253402300799));
    }

    /// <summary>System reset: clears PIE, AIE, UIE, SQWE and every flag of register C, and lowers the IRQ.</summary>
    public void Reset()
    {
        // A guest that suspended itself left 0xFE in the shutdown byte for the BIOS resume path.
        if (_cmos[0x0F] != 0xFE)
            _cmos[0x0F] = 0;
        _cmos[RegB] &= unchecked((byte)~(BPie | BAie | BUie | BSqwe));
        _cmos[RegC] = 0;
        _irq.Lower();
        _pfCheckedAt = Now;
        Reschedule();
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        if (Updating)
            SyncRegisters(Now);
        writer.Write(_cmos);
        writer.Write((byte)_index);
        writer.Write(_nmiMasked);
        writer.Write(_dividerOrigin);
        writer.Write(_refSeconds);
        writer.Write(_refBoundary);
        writer.Write(_pfCheckedAt);
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, CurrentVersion);
        var cmos = reader.ReadBytes(_cmos.Length);
        if (cmos.Length != _cmos.Length)
            throw new EndOfStreamException($"section '{SectionName}': truncated CMOS");
        cmos.CopyTo(_cmos, 0);
        _index = reader.ReadByte() & 0x7F;
        _nmiMasked = reader.ReadBoolean();
        _dividerOrigin = reader.ReadInt64();
        _refSeconds = reader.ReadInt64();
        _refBoundary = reader.ReadInt64();
        _pfCheckedAt = reader.ReadInt64();
        _irq.Set((_cmos[RegC] & CIrqf) != 0);
        Reschedule();
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        new("iobase", "uint32", () => (long)IoBase, v => IoBase = checked((ushort)Qom.QomValues.UInt32(v, "iobase"))),
        new("irq", "uint32", () => (long)Irq, v => Irq = checked((int)Qom.QomValues.UInt32(v, "irq"))),
    ];

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        if (_irqNumber is < 0 or > 15)
            throw new DeviceRealizeException("Maximum value for \"irq\" is: 15");
        if (_ramSize < 0 || _ramBelow4G < 0 || _ramBelow4G > _ramSize)
            throw new DeviceRealizeException($"{TypeName}: RAM below 4G must lie between 0 and the RAM size");
        _clock = ClockOverride ?? new TimerQueueClock(scope.Context.Timers);
        _irq = scope.Context.IsaIrq(_irqNumber);
        var update = _clock.CreateTimer(OnUpdateTimer);
        var periodic = _clock.CreateTimer(OnPeriodicTimer);
        _updateTimer = update;
        _periodicTimer = periodic;
        scope.OnUndo(update.Cancel);
        scope.OnUndo(periodic.Cancel);
        scope.MapPorts(_ioBase, MemoryRegion.Io("rtc", 2, new DelegateIoHandler(Read, Write), IoAccessRules.Bytes));

        var now = _clock.Now;
        _cmos[RegA] = 0x26;
        _cmos[RegB] = B24h;
        _cmos[RegC] = 0;
        _cmos[RegD] = 0x80;
        _dividerOrigin = now;
        _pfCheckedAt = now;
        var start = _initialTime ?? DateTime.UtcNow;
        _refSeconds = (long)Math.Floor((start - DateTime.UnixEpoch).TotalSeconds);
        _refBoundary = 0;
        WriteTimeRegisters(_refSeconds);
        if (_ramSize > 0)
            WriteMemorySize();
        Reschedule();
    }

    /// <inheritdoc/>
    protected override void OnUnrealize()
    {
        _updateTimer?.Cancel();
        _periodicTimer?.Cancel();
        _updateTimer = _periodicTimer = null;
    }

    private static void CheckIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, 127);
    }

    private ulong Read(ulong offset, int size)
    {
        // The index register is write-only.
        if (offset == 0)
            return 0xFF;
        var now = Now;
        if (_index == Ps2Century)
            _index = Century;
        switch (_index)
        {
            case Seconds or Minutes or Hours or DayOfWeek or DayOfMonth or Month or Year or Century:
                if (Updating)
                    SyncRegisters(now);
                return _cmos[_index];
            case RegA:
                return (uint)(_cmos[RegA] | (UpdateInProgress(now) ? AUip : 0));
            case RegC:
                FoldPeriodicFlag(now);
                var c = _cmos[RegC];
                _cmos[RegC] = 0;
                _irq.Lower();
                return c;
            default:
                return _cmos[_index];
        }
    }

    private void Write(ulong offset, int size, ulong value)
    {
        var data = (byte)value;
        if (offset == 0)
        {
            _index = data & 0x7F;
            _nmiMasked = (data & 0x80) != 0;
            return;
        }
        var now = Now;
        if (_index == Ps2Century)
            _index = Century;
        switch (_index)
        {
            case Seconds or Minutes or Hours or DayOfWeek or DayOfMonth or Month or Year or Century:
                if (Updating)
                {
                    // Setting one field while the clock runs: the others keep their current values.
                    SyncRegisters(now);
                    _cmos[_index] = data;
                    Rebase(now);
                    Reschedule();
                }
                else
                    _cmos[_index] = data;
                break;
            case RegA:
                WriteRegisterA(data, now);
                break;
            case RegB:
                WriteRegisterB(data, now);
                break;
            case RegC:
            case RegD:
                // Read-only.
                break;
            default:
                _cmos[_index] = data;
                break;
        }
    }

    private void WriteRegisterA(byte data, long now)
    {
        FoldPeriodicFlag(now);
        var wasRunning = DividerRunning;
        if (Updating)
            SyncRegisters(now);
        // UIP is read-only (computed on read).
        _cmos[RegA] = (byte)(data & 0x7F);
        if (!wasRunning && DividerRunning)
        {
            // Leaving divider reset: the first update comes half a second later.
            _dividerOrigin = now - NanosPerSecond / 2;
            if ((_cmos[RegB] & BSet) == 0)
                Rebase(now);
        }
        _pfCheckedAt = now;
        Reschedule();
    }

    private void WriteRegisterB(byte data, long now)
    {
        FoldPeriodicFlag(now);
        var old = _cmos[RegB];
        if ((data & BSet) != 0)
        {
            // SET freezes the time registers for the guest to write; UIE is cleared with it.
            if (Updating)
                SyncRegisters(now);
            data &= unchecked((byte)~BUie);
        }
        _cmos[RegB] = data;
        if ((old & BSet) != 0 && (data & BSet) == 0 && DividerRunning)
            Rebase(now);
        // A flag already set when its interrupt becomes enabled interrupts at once.
        if ((data & _cmos[RegC] & (CPf | CAf | CUf)) != 0)
        {
            _cmos[RegC] |= CIrqf;
            _irq.Raise();
        }
        else
        {
            _cmos[RegC] &= unchecked((byte)~CIrqf);
            _irq.Lower();
        }
        _pfCheckedAt = now;
        Reschedule();
    }

    private bool UpdateInProgress(long now)
    {
        if (!Updating)
            return false;
        var phase = FloorMod(now - _dividerOrigin, NanosPerSecond);
        return phase >= NanosPerSecond - UipHold;
    }

    private long Boundary(long now) => FloorDiv(now - _dividerOrigin, NanosPerSecond);

    private long CurrentSeconds(long now) => _refSeconds + Boundary(now) - _refBoundary;

    private void SyncRegisters(long now) => WriteTimeRegisters(CurrentSeconds(now));

    // The guest set the time: the registers become the reference, the divider phase is kept.
    private void Rebase(long now)
    {
        _refSeconds = RegisterSeconds();
        _refBoundary = Boundary(now);
        GuestTimeChanged?.Invoke(_refSeconds - DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    private void Reschedule()
    {
        if (_updateTimer is null || _periodicTimer is null)
            return;
        var now = Now;
        if (Updating)
        {
            _nextUpdate = _dividerOrigin + (Boundary(now) + 1) * NanosPerSecond;
            _updateTimer.Arm(_nextUpdate);
        }
        else
            _updateTimer.Cancel();
        var period = PeriodClocks();
        if (period != 0 && DividerRunning && (_cmos[RegB] & BPie) != 0)
        {
            _nextPeriodic = PeriodicEdgeTime(PeriodicIndex(now, period) + 1, period);
            _periodicTimer.Arm(_nextPeriodic);
        }
        else
            _periodicTimer.Cancel();
    }

    private void OnUpdateTimer()
    {
        var at = _nextUpdate;
        if (!Updating)
            return;
        SyncRegisters(at);
        byte flags = CUf;
        if (AlarmMatches())
            flags |= CAf;
        RaiseFlags(flags);
        _nextUpdate = _dividerOrigin + (Boundary(at) + 1) * NanosPerSecond;
        _updateTimer?.Arm(_nextUpdate);
    }

    private void OnPeriodicTimer()
    {
        var at = _nextPeriodic;
        var period = PeriodClocks();
        if (period == 0 || !DividerRunning || (_cmos[RegB] & BPie) == 0)
            return;
        RaiseFlags(CPf);
        _nextPeriodic = PeriodicEdgeTime(PeriodicIndex(at, period) + 1, period);
        _periodicTimer?.Arm(_nextPeriodic);
    }

    private void RaiseFlags(byte flags)
    {
        _cmos[RegC] |= flags;
        if ((flags & _cmos[RegB] & (CPf | CAf | CUf)) != 0)
        {
            _cmos[RegC] |= CIrqf;
            _irq.Raise();
        }
    }

    // With PIE off no timer runs for the periodic rate; PF is still set at that rate, so it is
    // worked out from the time that passed when the guest looks at register C.
    private void FoldPeriodicFlag(long now)
    {
        var period = PeriodClocks();
        if (period != 0 && DividerRunning && (_cmos[RegB] & BPie) == 0 &&
            PeriodicIndex(now, period) > PeriodicIndex(_pfCheckedAt, period))
            _cmos[RegC] |= CPf;
        _pfCheckedAt = now;
    }

    // The periodic rate in 32.768 kHz clocks; rates 1 and 2 repeat rates 8 and 9, as on the part.
    private int PeriodClocks()
    {
        var rate = _cmos[RegA] & 0x0F;
        if (rate == 0)
            return 0;
        if (rate <= 2)
            rate += 7;
        return 1 << (rate - 1);
    }

    private long PeriodicIndex(long time, int period) =>
        FloorDiv((long)((Int128)(time - _dividerOrigin) * 32768 / NanosPerSecond), period);

    private long PeriodicEdgeTime(long index, int period) =>
        _dividerOrigin + (long)(((Int128)index * period * NanosPerSecond + 32767) / 32768);

    private bool AlarmMatches() =>
        AlarmField(SecondsAlarm, Seconds) && AlarmField(MinutesAlarm, Minutes) && AlarmField(HoursAlarm, Hours);

    // An alarm byte of 0xC0-0xFF is "don't care".
    private bool AlarmField(int alarm, int time) =>
        (_cmos[alarm] & 0xC0) == 0xC0 || _cmos[alarm] == _cmos[time];

    private void WriteTimeRegisters(long unixSeconds)
    {
        var days = FloorDiv(unixSeconds, 86400);
        var secondOfDay = unixSeconds - days * 86400;
        var (year, month, day) = CivilFromDays(days);
        var hour = (int)(secondOfDay / 3600);
        _cmos[Seconds] = ToRegister((int)(secondOfDay % 60));
        _cmos[Minutes] = ToRegister((int)(secondOfDay / 60 % 60));
        if ((_cmos[RegB] & B24h) != 0)
            _cmos[Hours] = ToRegister(hour);
        else
            _cmos[Hours] = (byte)(ToRegister(hour % 12 == 0 ? 12 : hour % 12) | (hour >= 12 ? 0x80 : 0));
        _cmos[DayOfWeek] = ToRegister((int)FloorMod(days + 4, 7) + 1);  // 1970-01-01 was a Thursday; Sunday = 1
        _cmos[DayOfMonth] = ToRegister(day);
        _cmos[Month] = ToRegister(month);
        _cmos[Year] = ToRegister((int)(year % 100));
        _cmos[Century] = ToRegister((int)(year / 100));
    }

    private long RegisterSeconds()
    {
        var raw = _cmos[Hours];
        var hour = FromRegister((byte)(raw & 0x7F));
        if ((_cmos[RegB] & B24h) == 0)
        {
            hour %= 12;
            if ((raw & 0x80) != 0)
                hour += 12;
        }
        var year = FromRegister(_cmos[Year]) + 100L * FromRegister(_cmos[Century]);
        var month = Math.Clamp(FromRegister(_cmos[Month]), 1, 12);
        var day = Math.Clamp(FromRegister(_cmos[DayOfMonth]), 1, 31);
        return DaysFromCivil(year, month, day) * 86400 + hour * 3600L + FromRegister(_cmos[Minutes]) * 60L + FromRegister(_cmos[Seconds]);
    }

    private byte ToRegister(int value) => Binary ? (byte)value : (byte)((value / 10 << 4) | (value % 10));

    private int FromRegister(byte value) => Binary ? value : (value >> 4) * 10 + (value & 0x0F);

    private void WriteMemorySize()
    {
        const long KiB = 1024, MiB = 1024 * KiB;
        var below = _ramBelow4G ?? (_ramSize >= 0xE0000000 ? 0xC0000000 : _ramSize);
        var above = _ramSize - below;
        // Base memory in KiB, at most 640.
        SetWord(0x15, Math.Min(below / KiB, 640));
        // Extended memory above 1 MiB in KiB, at most 65535 (both the old and the AMI location).
        var extended = Math.Min(below > MiB ? (below - MiB) / KiB : 0, 65535);
        SetWord(0x17, extended);
        SetWord(0x30, extended);
        // Memory between 16 MiB and 4 GiB in 64 KiB units.
        SetWord(0x34, Math.Min(below > 16 * MiB ? (below - 16 * MiB) / (64 * KiB) : 0, 65535));
        // Memory above 4 GiB in 64 KiB units (three bytes).
        var high = above / (64 * KiB);
        _cmos[0x5B] = (byte)high;
        _cmos[0x5C] = (byte)(high >> 8);
        _cmos[0x5D] = (byte)(high >> 16);
    }

    private void SetWord(int index, long value)
    {
        _cmos[index] = (byte)value;
        _cmos[index + 1] = (byte)(value >> 8);
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static long FloorMod(long a, long b) => a - FloorDiv(a, b) * b;

    // Howard Hinnant's civil-calendar algorithms (proleptic Gregorian), valid for any day count.
    private static long DaysFromCivil(long year, int month, int day)
    {
        year -= month <= 2 ? 1 : 0;
        var era = FloorDiv(year, 400);
        var yearOfEra = year - era * 400;
        var dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        var dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        return era * 146097 + dayOfEra - 719468;
    }

    private static (long Year, int Month, int Day) CivilFromDays(long days)
    {
        days += 719468;
        var era = FloorDiv(days, 146097);
        var dayOfEra = days - era * 146097;
        var yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
        var dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        var mp = (5 * dayOfYear + 2) / 153;
        var day = (int)(dayOfYear - (153 * mp + 2) / 5 + 1);
        var month = (int)(mp < 10 ? mp + 3 : mp - 9);
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day);
    }
}
