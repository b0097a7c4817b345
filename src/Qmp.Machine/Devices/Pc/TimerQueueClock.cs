using Qmp.Machine.Timers;

namespace Qmp.Machine.Devices.Pc;

/// <summary>The production <see cref="IDeviceClock"/>: the board's timer queue and its virtual clock.</summary>
internal sealed class TimerQueueClock(TimerQueue timers) : IDeviceClock
{
    public long Now => timers.Clock.Now;

    public MachineTimer CreateTimer(Action callback) => timers.Create(callback);
}
