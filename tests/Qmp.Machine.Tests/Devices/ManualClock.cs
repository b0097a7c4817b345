using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Timers;

namespace Qmp.Machine.Tests.Devices;

/// <summary>A virtual clock the test advances by hand, firing due timers in deadline order at their deadlines.</summary>
internal sealed class ManualClock : IDeviceClock
{
    private readonly TimerQueue _queue = new(new VirtualClock());
    private readonly List<MachineTimer> _timers = [];

    public long Now { get; private set; }

    public MachineTimer CreateTimer(Action callback)
    {
        var timer = _queue.Create(callback);
        _timers.Add(timer);
        return timer;
    }

    /// <summary>Armed timers of every device on this clock.</summary>
    public int ArmedTimers => _timers.Count(t => t.IsArmed);

    public void Advance(long nanoseconds) => RunUntil(Now + nanoseconds);

    public void RunUntil(long target)
    {
        for (var fired = 0; ; fired++)
        {
            if (fired > 10_000_000)
                throw new InvalidOperationException("timers keep firing without time advancing");
            MachineTimer? due = null;
            foreach (var timer in _timers)
            {
                if (timer.IsArmed && timer.Deadline <= target && (due is null || timer.Deadline < due.Deadline))
                    due = timer;
            }
            if (due is null)
                break;
            Now = Math.Max(Now, due.Deadline);
            due.Cancel();
            due.Fire();
        }
        Now = Math.Max(Now, target);
    }
}
