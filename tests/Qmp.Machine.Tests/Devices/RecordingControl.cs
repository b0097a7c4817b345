using Qmp.Machine.Devices;

namespace Qmp.Machine.Tests.Devices;

/// <summary>Records what devices ask of the machine.</summary>
internal sealed class RecordingControl : IMachineControl
{
    public List<string> Calls { get; } = [];

    public void RequestReset(ShutdownCause cause) => Calls.Add($"reset {cause}");

    public void RequestShutdown(ShutdownCause cause) => Calls.Add($"shutdown {cause}");

    public void ExitProcess(int exitCode) => Calls.Add($"exit {exitCode}");
}
