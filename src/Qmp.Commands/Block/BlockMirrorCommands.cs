using Qmp.Block.Jobs;
using Qmp.Schema;

namespace Qmp.Commands.Block;

/// <summary>block-mirror.json: blockdev-mirror and drive-mirror over the graph's mirror job.</summary>
public sealed class BlockMirrorCommands(Machine.Machine machine) : IBlockMirrorCommands
{
    /// <inheritdoc/>
    public ValueTask BlockdevMirrorAsync(BlockdevMirrorArguments arguments, CancellationToken cancellationToken) =>
        BlockErrors.RunAsync(() => MirrorJob.StartAsync(machine.Block, new MirrorJobOptions
        {
            JobId = arguments.JobId,
            Device = arguments.Device,
            Target = arguments.Target,
            Replaces = arguments.Replaces,
            Sync = Sync(arguments.Sync),
            UnsupportedSync = UnsupportedSync(arguments.Sync),
            Granularity = (long)(arguments.Granularity ?? 0),
            BufSize = arguments.BufSize ?? 0,
            OnSourceError = OnError(arguments.OnSourceError),
            OnTargetError = OnError(arguments.OnTargetError),
            FilterNodeName = arguments.FilterNodeName,
            CopyMode = CopyMode(arguments.CopyMode),
            Job = JobMapping.Options(arguments.Speed, null, arguments.AutoFinalize, arguments.AutoDismiss),
        }, cancellationToken));

    /// <inheritdoc/>
    public ValueTask DriveMirrorAsync(Schema.DriveMirror arguments, CancellationToken cancellationToken) =>
        BlockErrors.RunAsync(() => Qmp.Block.Jobs.DriveMirror.StartAsync(machine.Block, new DriveMirrorOptions
        {
            Mirror = new MirrorJobOptions
            {
                JobId = arguments.JobId,
                Device = arguments.Device,
                Target = arguments.Target,
                Replaces = arguments.Replaces,
                Sync = Sync(arguments.Sync),
                UnsupportedSync = UnsupportedSync(arguments.Sync),
                Granularity = (long)(arguments.Granularity ?? 0),
                BufSize = arguments.BufSize ?? 0,
                OnSourceError = OnError(arguments.OnSourceError),
                OnTargetError = OnError(arguments.OnTargetError),
                CopyMode = CopyMode(arguments.CopyMode),
                Unmap = arguments.Unmap ?? true,
                Job = JobMapping.Options(arguments.Speed, null, arguments.AutoFinalize, arguments.AutoDismiss),
            },
            Format = arguments.Format,
            NodeName = arguments.NodeName,
            Existing = arguments.Mode == NewImageMode.Existing,
        }, cancellationToken));

    private static Qmp.Block.Jobs.MirrorSyncMode Sync(Schema.MirrorSyncMode sync) => sync switch
    {
        Schema.MirrorSyncMode.Top => Qmp.Block.Jobs.MirrorSyncMode.Top,
        Schema.MirrorSyncMode.None => Qmp.Block.Jobs.MirrorSyncMode.None,
        _ => Qmp.Block.Jobs.MirrorSyncMode.Full,
    };

    // QEMU 7.2's mirror refuses the bitmap modes by name.
    private static string? UnsupportedSync(Schema.MirrorSyncMode sync) => sync switch
    {
        Schema.MirrorSyncMode.Incremental => "incremental",
        Schema.MirrorSyncMode.Bitmap => "bitmap",
        _ => null,
    };

    private static Qmp.Block.Jobs.MirrorCopyMode CopyMode(Schema.MirrorCopyMode? mode) =>
        mode == Schema.MirrorCopyMode.WriteBlocking ? Qmp.Block.Jobs.MirrorCopyMode.WriteBlocking : Qmp.Block.Jobs.MirrorCopyMode.Background;

    // 'auto' for a job means report, as QEMU's block_job_error_action treats it.
    private static JobOnError OnError(BlockdevOnError? onError) => JobMapping.Options(null, onError, null, null).OnError;
}
