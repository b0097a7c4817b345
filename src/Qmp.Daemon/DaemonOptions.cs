namespace Qmp.Daemon;

/// <summary>What the daemon was asked to do.</summary>
internal sealed record DaemonOptions
{
    public required IReadOnlyList<MachineSpec> Machines { get; init; }

    public string? PidFile { get; init; }

    public bool Daemonize { get; init; }

    /// <summary><c>-D FILE</c>: also log to this file.</summary>
    public string? LogFile { get; init; }

    /// <summary>Text to print instead of running (<c>-machine help</c>).</summary>
    public string? InfoOutput { get; init; }

    /// <summary>True when started with no arguments: the built-in default machine.</summary>
    public bool IsDefault { get; init; }
}
