using System.Collections.Frozen;

namespace Qmp.Machine;

/// <summary>
/// QEMU's run-state transition table (softmmu/runstate.c). A transition to the current state is
/// always allowed and changes nothing; anything not listed is a bug in the caller.
/// </summary>
public static class RunStateTransitions
{
    private static readonly FrozenSet<(RunState From, RunState To)> _allowed = new (RunState, RunState)[]
    {
        (RunState.Prelaunch, RunState.InMigrate),

        (RunState.Debug, RunState.Running),
        (RunState.Debug, RunState.FinishMigrate),
        (RunState.Debug, RunState.Prelaunch),
        (RunState.Debug, RunState.Suspended),

        (RunState.InMigrate, RunState.InternalError),
        (RunState.InMigrate, RunState.IoError),
        (RunState.InMigrate, RunState.Paused),
        (RunState.InMigrate, RunState.Running),
        (RunState.InMigrate, RunState.Shutdown),
        (RunState.InMigrate, RunState.Suspended),
        (RunState.InMigrate, RunState.Watchdog),
        (RunState.InMigrate, RunState.GuestPanicked),
        (RunState.InMigrate, RunState.FinishMigrate),
        (RunState.InMigrate, RunState.Prelaunch),
        (RunState.InMigrate, RunState.PostMigrate),
        (RunState.InMigrate, RunState.Colo),

        (RunState.InternalError, RunState.Paused),
        (RunState.InternalError, RunState.FinishMigrate),
        (RunState.InternalError, RunState.Prelaunch),

        (RunState.IoError, RunState.Running),
        (RunState.IoError, RunState.FinishMigrate),
        (RunState.IoError, RunState.Prelaunch),

        (RunState.Paused, RunState.Running),
        (RunState.Paused, RunState.FinishMigrate),
        (RunState.Paused, RunState.PostMigrate),
        (RunState.Paused, RunState.Prelaunch),
        (RunState.Paused, RunState.Colo),

        (RunState.PostMigrate, RunState.Running),
        (RunState.PostMigrate, RunState.FinishMigrate),
        (RunState.PostMigrate, RunState.Prelaunch),

        (RunState.Prelaunch, RunState.Running),
        (RunState.Prelaunch, RunState.FinishMigrate),

        (RunState.FinishMigrate, RunState.Running),
        (RunState.FinishMigrate, RunState.Paused),
        (RunState.FinishMigrate, RunState.PostMigrate),
        (RunState.FinishMigrate, RunState.Prelaunch),
        (RunState.FinishMigrate, RunState.Colo),

        (RunState.RestoreVm, RunState.Running),
        (RunState.RestoreVm, RunState.Prelaunch),

        (RunState.Colo, RunState.Running),
        (RunState.Colo, RunState.Prelaunch),
        (RunState.Colo, RunState.Shutdown),

        (RunState.Running, RunState.Debug),
        (RunState.Running, RunState.InternalError),
        (RunState.Running, RunState.IoError),
        (RunState.Running, RunState.Paused),
        (RunState.Running, RunState.FinishMigrate),
        (RunState.Running, RunState.RestoreVm),
        (RunState.Running, RunState.SaveVm),
        (RunState.Running, RunState.Shutdown),
        (RunState.Running, RunState.Watchdog),
        (RunState.Running, RunState.GuestPanicked),
        (RunState.Running, RunState.Colo),
        (RunState.Running, RunState.Suspended),

        (RunState.SaveVm, RunState.Running),

        (RunState.Shutdown, RunState.Paused),
        (RunState.Shutdown, RunState.FinishMigrate),
        (RunState.Shutdown, RunState.Prelaunch),
        (RunState.Shutdown, RunState.Colo),

        (RunState.Suspended, RunState.Running),
        (RunState.Suspended, RunState.FinishMigrate),
        (RunState.Suspended, RunState.Prelaunch),
        (RunState.Suspended, RunState.Colo),

        (RunState.Watchdog, RunState.Running),
        (RunState.Watchdog, RunState.FinishMigrate),
        (RunState.Watchdog, RunState.Prelaunch),
        (RunState.Watchdog, RunState.Colo),

        (RunState.GuestPanicked, RunState.Running),
        (RunState.GuestPanicked, RunState.FinishMigrate),
        (RunState.GuestPanicked, RunState.Prelaunch),
    }.ToFrozenSet();

    /// <summary>Whether QEMU allows going from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool IsAllowed(RunState from, RunState to) => from == to || _allowed.Contains((from, to));

    /// <summary>Every listed transition, for tests and documentation.</summary>
    public static IEnumerable<(RunState From, RunState To)> All => _allowed;
}
