using Qmp.Schema;

namespace Qmp.Commands;

/// <summary>run-state.json: query-status.</summary>
public sealed class RunStateCommands(Machine.Machine machine) : IRunStateCommands
{
    /// <inheritdoc/>
    public ValueTask<StatusInfo> QueryStatusAsync(CancellationToken cancellationToken)
    {
        // The run state is published atomically by the machine thread; no need to stop it to read.
        var state = machine.RunState;
        return ValueTask.FromResult(new StatusInfo { Running = state == Machine.RunState.Running, Status = state.ToSchema() });
    }
}
