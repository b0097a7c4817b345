using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>misc.json: query-name, stop, cont, human-monitor-command.</summary>
public sealed class MiscCommands(Machine.Machine machine, HumanMonitor humanMonitor) : IMiscCommands
{
    /// <inheritdoc/>
    public ValueTask<NameInfo> QueryNameAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new NameInfo { Name = machine.Config.Name });

    /// <inheritdoc/>
    public ValueTask StopAsync(CancellationToken cancellationToken) => DomainMapping.Guard(() => machine.StopAsync(cancellationToken));

    /// <inheritdoc/>
    public async ValueTask InjectNmiAsync(CancellationToken cancellationToken)
    {
        var board = machine.Board ?? throw new Schema.Runtime.QmpErrorException(Schema.Runtime.QmpErrorClass.GenericError, "this feature or command is not currently supported");
        await machine.InvokeAsync(board.InjectNmi, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask ContAsync(CancellationToken cancellationToken) => DomainMapping.Guard(() => machine.ContinueAsync(cancellationToken));

    /// <inheritdoc/>
    public async ValueTask<string> HumanMonitorCommandAsync(HumanMonitorCommandArguments arguments, CancellationToken cancellationToken)
    {
        if (arguments.CpuIndex is { } cpu && (cpu < 0 || cpu >= machine.Config.Cpus))
            throw QmpErrorException.Generic("Parameter 'cpu-index' expects a CPU number");
        var output = await humanMonitor.ExecuteAsync(arguments.CommandLine, cancellationToken).ConfigureAwait(false);
        // HMP output lines end in CRLF on the wire, as QEMU's monitor writes them.
        return output.Replace("\n", "\r\n", StringComparison.Ordinal);
    }
}
