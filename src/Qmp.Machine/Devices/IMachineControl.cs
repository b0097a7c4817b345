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
}
