using Qmp.Machine;

namespace Qmp.Daemon;

/// <summary>One machine of the daemon: its configuration and its monitors.</summary>
internal sealed record MachineSpec(MachineConfig Config, IReadOnlyList<MonitorSpec> Monitors);
