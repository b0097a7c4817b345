namespace Qmp.Machine.Timers;

/// <summary>
/// Timers on the virtual clock. Devices arm them on the machine thread; the machine thread runs
/// expired callbacks between translation blocks and sleeps no longer than the next deadline.
/// </summary>
public sealed class TimerQueue(VirtualClock clock)
{
    private readonly List<MachineTimer> _armed = [];

    /// <summary>The clock deadlines refer to.</summary>
    public VirtualClock Clock { get; } = clock;

    /// <summary>Raised when a timer is armed earlier than the previous earliest deadline (wake the machine thread).</summary>
    public event Action? DeadlineChanged;

    /// <summary>Creates a disarmed timer that calls <paramref name="callback"/> on the machine thread.</summary>
    public MachineTimer Create(Action callback) => new(this, callback);

    /// <summary>The earliest armed deadline, or null.</summary>
    public long? NextDeadline
    {
        get
        {
            lock (_armed)
                return _armed.Count == 0 ? null : _armed.Min(t => t.Deadline);
        }
    }

    /// <summary>Runs every timer whose deadline has passed; returns how many ran.</summary>
    public int RunExpired()
    {
        var ran = 0;
        while (true)
        {
            MachineTimer? due = null;
            var now = Clock.Now;
            lock (_armed)
            {
                foreach (var timer in _armed)
                {
                    if (timer.Deadline <= now && (due is null || timer.Deadline < due.Deadline))
                        due = timer;
                }
                if (due is null)
                    return ran;
                _armed.Remove(due);
                due.IsArmed = false;
            }
            due.Fire();
            ran++;
        }
    }

    internal void Arm(MachineTimer timer, long deadline)
    {
        bool earlier;
        lock (_armed)
        {
            var previous = _armed.Count == 0 ? long.MaxValue : _armed.Min(t => t.Deadline);
            if (!timer.IsArmed)
                _armed.Add(timer);
            timer.Deadline = deadline;
            timer.IsArmed = true;
            earlier = deadline < previous;
        }
        if (earlier)
            DeadlineChanged?.Invoke();
    }

    internal void Disarm(MachineTimer timer)
    {
        lock (_armed)
        {
            _armed.Remove(timer);
            timer.IsArmed = false;
        }
    }
}
