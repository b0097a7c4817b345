using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Timers;

namespace Qmp.Machine.Tests.Devices.Apic;

/// <summary>
/// A clock whose timers run only when the test fires them: the machine thread that is behind,
/// running expired timers only between slices while the guest already sees a later time.
/// </summary>
internal sealed class LateTimerClock : IDeviceClock
{
    private readonly TimerQueue _queue = new(new VirtualClock());

    public long Now { get; set; }

    public MachineTimer? Timer { get; private set; }

    public MachineTimer CreateTimer(Action callback) => Timer = _queue.Create(callback);

    /// <summary>Runs the device's timer now, as TimerQueue.RunExpired would.</summary>
    public void RunTimer()
    {
        var timer = Timer!;
        Assert.True(timer.IsArmed && timer.Deadline <= Now);
        timer.Cancel();
        timer.Fire();
    }
}
