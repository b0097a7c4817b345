namespace Qmp.Machine;

/// <summary>
/// Receives the machine's lifecycle events on the machine thread, at the moment they happen, so
/// that an event caused by a command is published before the command completes.
/// Implementations must not block.
/// </summary>
public interface IMachineObserver
{
    /// <summary>The guest stopped running (QEMU's STOP).</summary>
    void OnStop();

    /// <summary>The guest resumed (QEMU's RESUME).</summary>
    void OnResume();

    /// <summary>The machine was reset (QEMU's RESET).</summary>
    void OnReset(bool guest, ShutdownCause cause);

    /// <summary>The machine is shutting down (QEMU's SHUTDOWN).</summary>
    void OnShutdown(bool guest, ShutdownCause cause);

    /// <summary>A power-button press was requested (QEMU's POWERDOWN).</summary>
    void OnPowerdown();
}
