namespace Qmp.Machine;

/// <summary>The machine's run state, QEMU's <c>RunState</c> one to one.</summary>
public enum RunState
{
    Debug,
    InMigrate,
    InternalError,
    IoError,
    Paused,
    PostMigrate,
    Prelaunch,
    FinishMigrate,
    RestoreVm,
    Running,
    SaveVm,
    Shutdown,
    Suspended,
    Watchdog,
    GuestPanicked,
    Colo,
}
