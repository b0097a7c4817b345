namespace Qmp.Client;

/// <summary>The emulator exited or never connected its monitor during launch.</summary>
public sealed class VmLaunchException(string message, int? exitCode, string command, string output, Exception? inner = null)
    : Exception($"{message} (exit code {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"})\ncommand: {command}\noutput:\n{output}", inner)
{
    /// <summary>Exit code, if the process ended.</summary>
    public int? ExitCode { get; } = exitCode;

    /// <summary>The command line.</summary>
    public string Command { get; } = command;

    /// <summary>Everything the process printed.</summary>
    public string Output { get; } = output;
}
