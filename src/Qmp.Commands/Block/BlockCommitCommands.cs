using Qmp.Block.Jobs;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Block;

/// <summary>
/// block-commit.json: block-commit. A top below the active layer is an intermediate commit (<see cref="CommitJob"/>);
/// a top that is the active layer is QEMU's active commit (<see cref="ActiveCommitJob"/>, mirror-based, goes ready).
/// </summary>
public sealed class BlockCommitCommands(Machine.Machine machine) : IBlockCommitCommands
{
    /// <inheritdoc/>
    public ValueTask BlockCommitAsync(BlockCommitArguments arguments, CancellationToken cancellationToken) => BlockErrors.RunAsync(async () =>
    {
        var graph = machine.Block;
        // libvirt probes live commit by this DeviceNotFound, so the device is looked up before anything else (as in QEMU).
        if (graph.FindBackend(arguments.Device)?.Root is null && graph.FindNode(arguments.Device) is null)
            throw new QmpErrorException(QmpErrorClass.DeviceNotFound, $"Device '{arguments.Device}' not found");
        var options = new CommitJobOptions
        {
            JobId = arguments.JobId,
            Device = arguments.Device,
            TopNode = arguments.TopNode,
            Top = arguments.Top,
            BaseNode = arguments.BaseNode,
            Base = arguments.Base,
            BackingFile = arguments.BackingFile,
            Job = JobMapping.Options(arguments.Speed, arguments.OnError, arguments.AutoFinalize, arguments.AutoDismiss),
        };
        var plan = CommitJob.Plan(graph, options);
        if (!plan.IsActive)
        {
            await CommitJob.StartAsync(graph, options, cancellationToken).ConfigureAwait(false);
            return;
        }
        // The top is the active layer (or has a writer): QEMU's active commit, a mirror into the base that goes ready.
        await ActiveCommitJob.StartAsync(graph, new ActiveCommitJobOptions
        {
            JobId = arguments.JobId ?? plan.DeviceName,
            Device = plan.Top == plan.Device ? arguments.Device : plan.Top.NodeName,
            BaseNode = plan.Base.NodeName,
            Job = options.Job,
        }, cancellationToken).ConfigureAwait(false);
    });
}
