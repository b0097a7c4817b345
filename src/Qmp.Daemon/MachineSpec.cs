using Qmp.Machine;

namespace Qmp.Daemon;

/// <summary>One machine of the daemon: its configuration, its monitors and the block nodes and drives to open.</summary>
internal sealed record MachineSpec(MachineConfig Config, IReadOnlyList<MonitorSpec> Monitors)
{
    /// <summary>-blockdev and -drive, in command-line order.</summary>
    public IReadOnlyList<BlockSpec> Block { get; init; } = [];

    /// <summary><c>-incoming</c>: a migration URI, or <c>defer</c> (migrate-incoming gives it later); null without the option.</summary>
    public string? Incoming { get; init; }
}
