using Qmp.Schema;

namespace Qmp.Commands;

/// <summary>control.json: query-version, query-commands, quit (qmp_capabilities is the monitor's).</summary>
public sealed class ControlCommands(Machine.Machine machine) : IControlCommands
{
    /// <inheritdoc/>
    public ValueTask<VersionInfo> QueryVersionAsync(CancellationToken cancellationToken) => ValueTask.FromResult(QmpdVersion.Info);

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<CommandInfo>> QueryCommandsAsync(CancellationToken cancellationToken)
    {
        // QEMU lists commands in reverse registration order.
        IReadOnlyList<CommandInfo> list = QmpCommands.All.Reverse().Select(c => new CommandInfo { Name = c.Name }).ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask QuitAsync(CancellationToken cancellationToken) =>
        DomainMapping.Guard(() => machine.ShutdownAsync(Machine.ShutdownCause.HostQmpQuit, CancellationToken.None));
}
