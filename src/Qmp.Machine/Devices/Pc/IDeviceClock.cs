using Qmp.Machine.Timers;

namespace Qmp.Machine.Devices.Pc;

/// <summary>
/// Where a PC device reads virtual time and gets timers. Realize uses the board's
/// <see cref="TimerQueue"/>; tests substitute a clock they advance by hand, because
/// <see cref="VirtualClock"/> follows host time.
/// </summary>
internal interface IDeviceClock
{
    /// <summary>Virtual nanoseconds.</summary>
    long Now { get; }

    /// <summary>A disarmed timer whose callback runs on the machine thread.</summary>
    MachineTimer CreateTimer(Action callback);
}
