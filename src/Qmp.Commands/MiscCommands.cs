using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>misc.json: query-name, stop, cont, human-monitor-command, inject-nmi, pmemsave, memsave, getfd, closefd.</summary>
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

    /// <inheritdoc/>
    public async ValueTask PmemsaveAsync(PmemsaveArguments arguments, CancellationToken cancellationToken) =>
        await DomainMapping.Guard(() => GuestMemoryDump.PhysicalAsync(machine, arguments.Val, arguments.Size, arguments.Filename, cancellationToken)).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask MemsaveAsync(MemsaveArguments arguments, CancellationToken cancellationToken)
    {
        // qmpd runs one vCPU for all of -smp's CPUs: any index QEMU would accept translates through it.
        var cpu = arguments.CpuIndex ?? 0;
        if (!machine.HasCpu || cpu < 0 || cpu >= machine.Config.Cpus)
            throw QmpErrorException.Generic("Parameter 'cpu-index' expects a CPU number");
        await DomainMapping.Guard(() => GuestMemoryDump.VirtualAsync(machine, arguments.Val, arguments.Size, arguments.Filename, cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask GetfdAsync(GetfdArguments arguments, CancellationToken cancellationToken)
    {
        var connection = QmpRequestContext.Current;
        var fd = connection?.TakeReceivedFd() ?? throw QmpErrorException.Generic("No file descriptor supplied via SCM_RIGHTS");
        // Numeric names would be read as descriptor numbers by fd:NAME parameters (QmpRequestContext.ResolveFdParameter).
        if (arguments.Fdname.Length > 0 && char.IsAsciiDigit(arguments.Fdname[0]))
        {
            fd.Dispose();
            throw QmpErrorException.Generic("Parameter 'fdname' expects a name not starting with a digit");
        }
        connection!.Fds.Add(arguments.Fdname, fd);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask ClosefdAsync(ClosefdArguments arguments, CancellationToken cancellationToken)
    {
        if (QmpRequestContext.Current?.Fds.Close(arguments.Fdname) != true)
            throw QmpErrorException.Generic($"File descriptor named '{arguments.Fdname}' not found");
        return ValueTask.CompletedTask;
    }
}
