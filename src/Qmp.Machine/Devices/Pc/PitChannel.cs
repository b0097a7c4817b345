namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// One 8254 counter, computed from virtual time instead of ticked: the count element's position
/// is the number of input clocks since the current count was loaded (<see cref="Elapsed"/>),
/// and OUT and the count follow from it and the mode, per the Intel 8254 datasheet.
/// The datasheet's one-clock delay between writing a count and loading it (838 ns) is not
/// modelled: the count loads at the instant of the write.
/// </summary>
internal sealed class PitChannel(int index)
{
    /// <summary>The PIT input clock in Hz.</summary>
    public const long Frequency = 1_193_182;

    private const long NanosPerSecond = 1_000_000_000;

    private int _modeBits;      // M2..M0 as programmed (status read-back reports them)
    private int _access;        // RW1..RW0: 0 = not programmed since reset (byte access), 1 LSB, 2 MSB, 3 LSB then MSB
    private bool _bcd;
    private bool _writeHigh;    // LSB/MSB write flip-flop
    private bool _readHigh;     // LSB/MSB read flip-flop
    private byte _writeLatch;
    private int _latchState;    // 0 none, 1 LSB left, 2 MSB left, 3 both left
    private int _latchedCount;
    private bool _statusLatched;
    private byte _status;
    private bool _gate;

    private int _initialCount;  // CR: the last complete count written, binary, 1..65536 (or 1..10000 in BCD)
    private int _count;         // N of the current counting run
    private ChannelState _state = ChannelState.WaitingForCount;
    private bool _nullCount = true;
    private bool _halfWritten;  // mode 0: the first byte of a two-byte count stops counting
    private bool _running;
    private long _origin;       // virtual ns where clock counting (re)started
    private long _elapsedBase;  // clocks counted before _origin
    private int _pendingCount;  // modes 2/3: a count written while counting loads at the end of the cycle
    private long _pendingAt;
    private int _heldCount;     // what reads return while no count is loaded

    private enum ChannelState
    {
        WaitingForCount,
        WaitingForTrigger,
        Counting,
    }

    public int Index => index;

    /// <summary>The effective mode 0..5 (6 and 7 are modes 2 and 3).</summary>
    public int Mode => _modeBits >= 6 ? _modeBits - 4 : _modeBits;

    public bool Gate => _gate;

    public int InitialCount => _initialCount;

    /// <summary>Power-on state, as QEMU resets it: mode 3, count 65536, counting, gate high except on channel 2.</summary>
    public void Reset(long now)
    {
        _modeBits = 3;
        _access = 0;
        _bcd = false;
        _writeHigh = _readHigh = false;
        _latchState = 0;
        _statusLatched = false;
        _gate = index != 2;
        _pendingCount = 0;
        _halfWritten = false;
        _initialCount = 0x10000;
        Start(now);
        _nullCount = false;
    }

    public void WriteControl(byte value, long now)
    {
        Sync(now);
        var access = (value >> 4) & 3;
        if (access == 0)
        {
            Latch(now);
            return;
        }
        _access = access;
        _modeBits = (value >> 1) & 7;
        _bcd = (value & 1) != 0;
        _writeHigh = _readHigh = false;
        _heldCount = Count(now);
        _state = ChannelState.WaitingForCount;
        _running = false;
        _pendingCount = 0;
        _halfWritten = false;
        _nullCount = true;
    }

    public void WriteCounter(byte value, long now)
    {
        Sync(now);
        switch (_access)
        {
            case 2:
                Load(value << 8, now);
                break;
            case 3 when !_writeHigh:
                _writeLatch = value;
                _writeHigh = true;
                if (Mode == 0 && _state == ChannelState.Counting)
                {
                    // Mode 0: writing the first byte stops the count and drives OUT low.
                    Pause(now);
                    _halfWritten = true;
                }
                break;
            case 3:
                _writeHigh = false;
                Load(_writeLatch | (value << 8), now);
                break;
            default:
                Load(value, now);
                break;
        }
    }

    public byte ReadCounter(long now)
    {
        Sync(now);
        if (_statusLatched)
        {
            _statusLatched = false;
            return _status;
        }
        switch (_latchState)
        {
            case 1:
                _latchState = 0;
                return (byte)_latchedCount;
            case 2:
                _latchState = 0;
                return (byte)(_latchedCount >> 8);
            case 3:
                _latchState = 2;
                return (byte)_latchedCount;
        }
        var count = Count(now);
        switch (_access)
        {
            case 2:
                return (byte)(count >> 8);
            case 3:
                _readHigh = !_readHigh;
                return (byte)(_readHigh ? count : count >> 8);
            default:
                return (byte)count;
        }
    }

    /// <summary>Counter latch command; a second latch before the first is read is ignored.</summary>
    public void Latch(long now)
    {
        if (_latchState != 0)
            return;
        Sync(now);
        _latchedCount = Count(now);
        _latchState = _access == 0 ? 1 : _access;
    }

    /// <summary>Read-back command's status latch; ignored while a status is latched.</summary>
    public void LatchStatus(long now)
    {
        if (_statusLatched)
            return;
        Sync(now);
        _status = (byte)((Out(now) ? 0x80 : 0) | (_nullCount ? 0x40 : 0) | (_access << 4) | (_modeBits << 1) | (_bcd ? 1 : 0));
        _statusLatched = true;
    }

    public void SetGate(bool gate, long now)
    {
        Sync(now);
        if (gate == _gate)
            return;
        _gate = gate;
        switch (Mode)
        {
            case 0:
            case 4:
                // Gate low suspends counting; high resumes it.
                if (_state == ChannelState.Counting && !_halfWritten)
                {
                    if (gate)
                        Resume(now);
                    else
                        Pause(now);
                }
                break;
            case 1:
            case 5:
                // A rising edge (re)triggers the count.
                if (gate && _state != ChannelState.WaitingForCount)
                    Start(now);
                break;
            default:
                // Modes 2 and 3: gate low stops counting (OUT goes high); the rising edge reloads.
                if (_state != ChannelState.Counting)
                    break;
                if (gate)
                    Start(now);
                else
                    Pause(now);
                break;
        }
    }

    /// <summary>The OUT pin at <paramref name="now"/>.</summary>
    public bool Out(long now)
    {
        Sync(now);
        var mode = Mode;
        if (_state == ChannelState.WaitingForCount)
            return mode != 0;
        if (_state == ChannelState.WaitingForTrigger)
            return true;
        if (_halfWritten)
            return false;
        if (mode is 2 or 3 && !_gate)
            return true;
        return OutAt(Elapsed(now));
    }

    /// <summary>The count element as a read returns it (BCD-encoded in BCD mode).</summary>
    public int Count(long now)
    {
        Sync(now);
        if (_state != ChannelState.Counting)
            return _heldCount;
        var e = Elapsed(now);
        var n = (long)_count;
        long value;
        switch (Mode)
        {
            case 2:
                value = n - (e % n);
                break;
            case 3:
                value = SquareWaveCount(e, n);
                break;
            default:
                var modulus = _bcd ? 10_000 : 0x10000;
                value = ((n - e) % modulus + modulus) % modulus;
                break;
        }
        return Encode((int)value);
    }

    /// <summary>
    /// The next change of OUT after <paramref name="now"/> for the IRQ timer: its time, and
    /// whether it is a one-clock low strobe (modes 2, 4, 5), reported as a pulse at its end.
    /// </summary>
    public (long Time, bool Pulse)? NextTransition(long now)
    {
        Sync(now);
        if (_state != ChannelState.Counting || !_running)
            return null;
        var e = Elapsed(now);
        var n = (long)_count;
        long next;
        var pulse = false;
        switch (Mode)
        {
            case 0:
            case 1:
                if (e >= n)
                    return null;
                next = n;
                break;
            case 2:
                next = (e / n + 1) * n;
                pulse = true;
                break;
            case 3:
                var high = (n + 1) / 2;
                if (high == n)
                    return null;
                var start = e - e % n;
                next = e - start < high ? start + high : start + n;
                break;
            default:
                if (e > n)
                    return null;
                next = n + 1;
                pulse = true;
                break;
        }
        if (_pendingCount != 0 && _pendingAt > e && _pendingAt < next)
            next = _pendingAt;
        return (TimeOf(next), pulse);
    }

    public void Save(BinaryWriter w)
    {
        w.Write((byte)_modeBits);
        w.Write((byte)_access);
        w.Write(_bcd);
        w.Write(_writeHigh);
        w.Write(_readHigh);
        w.Write(_writeLatch);
        w.Write((byte)_latchState);
        w.Write(_latchedCount);
        w.Write(_statusLatched);
        w.Write(_status);
        w.Write(_gate);
        w.Write(_initialCount);
        w.Write(_count);
        w.Write((byte)_state);
        w.Write(_nullCount);
        w.Write(_halfWritten);
        w.Write(_running);
        w.Write(_origin);
        w.Write(_elapsedBase);
        w.Write(_pendingCount);
        w.Write(_pendingAt);
        w.Write(_heldCount);
    }

    public void Load(BinaryReader r)
    {
        _modeBits = r.ReadByte() & 7;
        _access = r.ReadByte() & 3;
        _bcd = r.ReadBoolean();
        _writeHigh = r.ReadBoolean();
        _readHigh = r.ReadBoolean();
        _writeLatch = r.ReadByte();
        _latchState = r.ReadByte() & 3;
        _latchedCount = r.ReadInt32();
        _statusLatched = r.ReadBoolean();
        _status = r.ReadByte();
        _gate = r.ReadBoolean();
        _initialCount = CheckCount(r.ReadInt32());
        _count = CheckCount(r.ReadInt32());
        var state = r.ReadByte();
        if (state > (byte)ChannelState.Counting)
            throw new InvalidDataException($"PIT channel {index}: invalid state {state}");
        _state = (ChannelState)state;
        _nullCount = r.ReadBoolean();
        _halfWritten = r.ReadBoolean();
        _running = r.ReadBoolean();
        _origin = r.ReadInt64();
        _elapsedBase = r.ReadInt64();
        _pendingCount = r.ReadInt32();
        _pendingAt = r.ReadInt64();
        _heldCount = r.ReadInt32();
        if (_pendingCount != 0)
            CheckCount(_pendingCount);
    }

    private static int CheckCount(int count) =>
        count is >= 1 and <= 0x10000 ? count : throw new InvalidDataException($"PIT count {count} out of range");

    private void Load(int raw, long now)
    {
        var count = _bcd ? FromBcd(raw) : raw;
        if (count == 0)
            count = _bcd ? 10_000 : 0x10000;
        _initialCount = count;
        _nullCount = true;
        _halfWritten = false;
        switch (Mode)
        {
            case 0:
            case 4:
                // A new count restarts the run at once (mode 0 drives OUT low again).
                Start(now);
                break;
            case 1:
            case 5:
                // Loaded on the next gate trigger.
                if (_state == ChannelState.WaitingForCount)
                    _state = ChannelState.WaitingForTrigger;
                break;
            default:
                if (_state != ChannelState.Counting || !_running)
                    Start(now);
                else
                {
                    // Counting continues; the new count loads at the end of the current cycle.
                    var e = Elapsed(now);
                    _pendingCount = count;
                    _pendingAt = e - e % _count + _count;
                }
                break;
        }
    }

    // Loads CR into the counting element and starts a run at elapsed 0 (gate permitting).
    private void Start(long now)
    {
        _count = _initialCount;
        _pendingCount = 0;
        _nullCount = false;
        _state = ChannelState.Counting;
        _elapsedBase = 0;
        _origin = now;
        // Modes 2 and 3 hold while the gate is low; 0 and 4 suspend; 1 and 5 only needed the trigger.
        _running = _gate || Mode is 1 or 5;
    }

    private void Pause(long now)
    {
        if (!_running)
            return;
        _elapsedBase = Elapsed(now);
        _running = false;
    }

    private void Resume(long now)
    {
        if (_running)
            return;
        _origin = now;
        _running = true;
    }

    // Applies a count written during a mode 2/3 cycle once that cycle has ended.
    private void Sync(long now)
    {
        if (_pendingCount == 0 || !_running)
            return;
        var e = Elapsed(now);
        if (e < _pendingAt)
            return;
        _elapsedBase -= _pendingAt;
        _count = _pendingCount;
        _pendingCount = 0;
        _nullCount = false;
    }

    private long Elapsed(long now)
    {
        if (!_running)
            return _elapsedBase;
        var delta = Math.Max(0, now - _origin);
        return _elapsedBase + (long)((Int128)delta * Frequency / NanosPerSecond);
    }

    // The first virtual time at which Elapsed reaches e (rounded up, so the clock has ticked).
    private long TimeOf(long e)
    {
        var clocks = e - _elapsedBase;
        return _origin + (long)(((Int128)clocks * NanosPerSecond + Frequency - 1) / Frequency);
    }

    private bool OutAt(long e)
    {
        var n = (long)_count;
        return Mode switch
        {
            0 or 1 => e >= n,
            2 => e % n != n - 1,
            3 => e % n < (n + 1) / 2,
            _ => e != n,
        };
    }

    // Mode 3 counts down by two each clock and reloads at each half-cycle; an odd count
    // spends one extra clock in the high half (first decrement by 1) and one less in the low
    // half (first decrement by 3), as the datasheet describes.
    private static long SquareWaveCount(long e, long n)
    {
        var position = e % n;
        var high = (n + 1) / 2;
        if ((n & 1) == 0)
        {
            var p = position < high ? position : position - high;
            return n - 2 * p;
        }
        if (position < high)
            return position == 0 ? n : n + 1 - 2 * position;
        var q = position - high;
        return q == 0 ? n : n - 1 - 2 * q;
    }

    private int Encode(int value)
    {
        if (!_bcd)
            return value & 0xFFFF;
        value %= 10_000;
        return (value / 1000 << 12) | (value / 100 % 10 << 8) | (value / 10 % 10 << 4) | (value % 10);
    }

    private static int FromBcd(int raw) =>
        ((raw >> 12) & 0xF) * 1000 + ((raw >> 8) & 0xF) * 100 + ((raw >> 4) & 0xF) * 10 + (raw & 0xF);
}
