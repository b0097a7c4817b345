using Qmp.Machine.Timers;
using Qmp.Memory;

namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// The 8254 programmable interval timer (QEMU's <c>isa-pit</c>) at ports 0x40-0x43, clocked at
/// 1.193182 MHz. Counts are computed from virtual time when read, never ticked; channel 0's
/// OUT drives ISA IRQ 0 through a timer armed at its next edge (re-armed in periodic modes).
/// Channel 2's gate and OUT are reached through port 0x61 (<see cref="PcSpeaker"/>).
/// </summary>
public sealed class Pit8254 : Device, IStatefulDevice
{
    private const int CurrentVersion = 1;

    private readonly PitChannel[] _channels = [new(0), new(1), new(2)];
    private ushort _ioBase = 0x40;
    private IDeviceClock? _clock;
    private MachineTimer? _timer;
    private IrqLine _irq = IrqLine.Unconnected;
    private long _nextEdge;
    private bool _nextIsPulse;

    /// <inheritdoc/>
    public override string TypeName => "isa-pit";

    /// <inheritdoc/>
    public string SectionName => "i8254";

    /// <inheritdoc/>
    public int StateVersion => CurrentVersion;

    /// <summary>The first of the four ports (QEMU's <c>iobase</c>, 0x40 on a PC).</summary>
    public ushort IoBase
    {
        get => _ioBase;
        set
        {
            CheckNotRealized(nameof(IoBase));
            _ioBase = value;
        }
    }

    /// <summary>Test seam: the clock and timers to use instead of the board's.</summary>
    internal IDeviceClock? ClockOverride { get; set; }

    private long Now => _clock?.Now ?? 0;

    /// <summary>Drives the GATE input of <paramref name="channel"/> (channel 2's comes from port 0x61).</summary>
    public void SetGate(int channel, bool level)
    {
        Channel(channel).SetGate(level, Now);
        if (channel == 0)
            UpdateIrq();
    }

    /// <summary>The GATE input of <paramref name="channel"/>.</summary>
    public bool GetGate(int channel) => Channel(channel).Gate;

    /// <summary>The OUT pin of <paramref name="channel"/> now.</summary>
    public bool GetOut(int channel) => Channel(channel).Out(Now);

    /// <summary>The effective mode (0..5) of <paramref name="channel"/>.</summary>
    public int GetMode(int channel) => Channel(channel).Mode;

    /// <summary>The count last written to <paramref name="channel"/> (1..65536), as the speaker needs it.</summary>
    public int GetInitialCount(int channel) => Channel(channel).InitialCount;

    /// <summary>System reset: every channel in mode 3 with count 65536, channel 2's gate low.</summary>
    public void Reset()
    {
        var now = Now;
        foreach (var channel in _channels)
            channel.Reset(now);
        UpdateIrq();
    }

    /// <inheritdoc/>
    public void SaveState(BinaryWriter writer)
    {
        foreach (var channel in _channels)
            channel.Save(writer);
    }

    /// <inheritdoc/>
    public void LoadState(BinaryReader reader, int version)
    {
        StateSections.CheckVersion(SectionName, version, CurrentVersion);
        foreach (var channel in _channels)
            channel.Load(reader);
        UpdateIrq();
    }

    /// <inheritdoc/>
    public override IEnumerable<Qom.QomProperty> QomProperties() =>
    [
        new("iobase", "uint32", () => (long)IoBase, v => IoBase = checked((ushort)Qom.QomValues.UInt32(v, "iobase"))),
    ];

    /// <inheritdoc/>
    protected override void OnRealize(RealizeScope scope)
    {
        _clock = ClockOverride ?? new TimerQueueClock(scope.Context.Timers);
        _irq = scope.Context.IsaIrq(0);
        var timer = _clock.CreateTimer(OnTimer);
        _timer = timer;
        scope.OnUndo(timer.Cancel);
        scope.MapPorts(_ioBase, MemoryRegion.Io("pit", 4, new DelegateIoHandler(Read, Write), IoAccessRules.Bytes));
        Reset();
    }

    /// <inheritdoc/>
    protected override void OnUnrealize()
    {
        _timer?.Cancel();
        _timer = null;
    }

    private PitChannel Channel(int channel)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(channel);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channel, 2);
        return _channels[channel];
    }

    private ulong Read(ulong offset, int size)
    {
        // The control register is write-only; QEMU reads it as 0.
        if (offset == 3)
            return 0;
        return _channels[offset].ReadCounter(Now);
    }

    private void Write(ulong offset, int size, ulong value)
    {
        var now = Now;
        var b = (byte)value;
        if (offset < 3)
        {
            _channels[offset].WriteCounter(b, now);
            if (offset == 0)
                UpdateIrq();
            return;
        }
        var select = b >> 6;
        if (select == 3)
        {
            // Read-back: bit 5 clear latches counts, bit 4 clear latches status, bits 3..1 pick channels.
            for (var i = 0; i < 3; i++)
            {
                if ((b & (2 << i)) == 0)
                    continue;
                if ((b & 0x20) == 0)
                    _channels[i].Latch(now);
                if ((b & 0x10) == 0)
                    _channels[i].LatchStatus(now);
            }
            return;
        }
        _channels[select].WriteControl(b, now);
        if (select == 0)
            UpdateIrq();
    }

    // Drives IRQ 0 from channel 0's OUT at the current time and arms the timer at the next edge.
    private void UpdateIrq() => UpdateIrqAt(Now);

    private void UpdateIrqAt(long time)
    {
        if (_timer is null)
            return;
        var channel = _channels[0];
        _irq.Set(channel.Out(time));
        if (channel.NextTransition(time) is { } next)
        {
            _nextEdge = next.Time;
            _nextIsPulse = next.Pulse;
            _timer.Arm(next.Time);
        }
        else
            _timer.Cancel();
    }

    private void OnTimer()
    {
        // Evaluate at the edge's own time, not the (later) time the timer ran: a late run still
        // produces every edge, as QEMU's PIT does.
        if (_nextIsPulse)
            _irq.Set(false);
        UpdateIrqAt(_nextEdge);
    }
}
