namespace Qmp.Machine.Timers;

/// <summary>One virtual-clock timer (QEMU's QEMUTimer).</summary>
public sealed class MachineTimer
{
    private readonly TimerQueue _queue;
    private readonly Action _callback;

    internal MachineTimer(TimerQueue queue, Action callback)
    {
        _queue = queue;
        _callback = callback;
    }

    /// <summary>The virtual time it fires at, when armed.</summary>
    public long Deadline { get; internal set; }

    /// <summary>Whether the timer will fire.</summary>
    public bool IsArmed { get; internal set; }

    /// <summary>Fires at virtual time <paramref name="deadline"/> (ns); re-arming moves it.</summary>
    public void Arm(long deadline) => _queue.Arm(this, deadline);

    /// <summary>Stops the timer; nothing happens if it is not armed.</summary>
    public void Cancel() => _queue.Disarm(this);

    internal void Fire() => _callback();
}
