namespace Qmp.Machine;

/// <summary>Why a reset or shutdown happened, QEMU's <c>ShutdownCause</c> one to one.</summary>
public enum ShutdownCause
{
    None,
    HostError,
    HostQmpQuit,
    HostQmpSystemReset,
    HostSignal,
    HostUi,
    GuestShutdown,
    GuestReset,
    GuestPanic,
    SubsystemReset,
    SnapshotLoad,
}

/// <summary>Helpers over <see cref="ShutdownCause"/>.</summary>
public static class ShutdownCauseExtensions
{
    /// <summary>True when the guest asked for it (QEMU's <c>shutdown_caused_by_guest</c>).</summary>
    public static bool IsGuest(this ShutdownCause cause) =>
        cause >= ShutdownCause.GuestShutdown;
}
