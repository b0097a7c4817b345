using Qmp.Machine;

namespace Qmp.Daemon;

/// <summary>One machine of the daemon: its configuration, its monitors and the block nodes and drives to open.</summary>
internal sealed record MachineSpec(MachineConfig Config, IReadOnlyList<MonitorSpec> Monitors)
{
    /// <summary>-blockdev and -drive, in command-line order.</summary>
    public IReadOnlyList<BlockSpec> Block { get; init; } = [];
}
