namespace Qmp.Machine.Devices;

/// <summary>What a device may ask of its machine. Called on the machine thread.</summary>
public interface IMachineControl
{
    /// <summary>A guest-initiated reset (keyboard-controller pulse, triple fault): RESET event with guest=true.</summary>
    void RequestReset(ShutdownCause cause);

    /// <summary>A guest-initiated power-off (ACPI, power button handling): SHUTDOWN event.</summary>
    void RequestShutdown(ShutdownCause cause);

    /// <summary>isa-debug-exit: end the process at once with <paramref name="exitCode"/>, as QEMU's exit() does.</summary>
    void ExitProcess(int exitCode);

    /// <summary>
    /// A request failed under a stop policy (rerror/werror): stop the guest in run state io-error, as
    /// QEMU's blk_error_action does. May be called from any thread; the stop happens at a safe point.
    /// </summary>
    void StopForIoError();

    /// <summary>Runs <paramref name="work"/> on the machine thread at the next safe point (I/O completions). May be called from any thread.</summary>
    void Post(Action work);

    /// <summary>Raised on the machine thread when the guest runs again after a stop (cont): devices retry the requests they kept.</summary>
    event Action? Resumed;
}
