using Qmp.Block.Jobs;
using Qmp.Schema;

namespace Qmp.Commands.Block;

/// <summary>block-mirror.json: blockdev-mirror and drive-mirror over the graph's mirror job.</summary>
public sealed class BlockMirrorCommands(Machine.Machine machine) : IBlockMirrorCommands
{
    /// <inheritdoc/>
    public ValueTask BlockdevMirrorAsync(BlockdevMirrorArguments arguments, CancellationToken cancellationToken) =>
        BlockErrors.RunAsync(() => MirrorJob.StartAsync(machine.Block, Options(
            arguments.JobId, arguments.Device, arguments.Target, arguments.Replaces, arguments.Sync, arguments.Granularity, arguments.BufSize,
            arguments.OnSourceError, arguments.OnTargetError, arguments.CopyMode, arguments.Speed, arguments.AutoFinalize, arguments.AutoDismiss) with
        {
            FilterNodeName = arguments.FilterNodeName,
        }, cancellationToken));

    /// <inheritdoc/>
    public ValueTask DriveMirrorAsync(Schema.DriveMirror arguments, CancellationToken cancellationToken) =>
        BlockErrors.RunAsync(() => Qmp.Block.Jobs.DriveMirror.StartAsync(machine.Block, new DriveMirrorOptions
        {
            Mirror = Options(
                arguments.JobId, arguments.Device, arguments.Target, arguments.Replaces, arguments.Sync, arguments.Granularity, arguments.BufSize,
                arguments.OnSourceError, arguments.OnTargetError, arguments.CopyMode, arguments.Speed, arguments.AutoFinalize, arguments.AutoDismiss) with
            {
                Unmap = arguments.Unmap ?? true,
            },
            Format = arguments.Format,
            NodeName = arguments.NodeName,
            Existing = arguments.Mode == NewImageMode.Existing,
        }, cancellationToken));

    // The members blockdev-mirror and drive-mirror share (their generated argument types are distinct).
    private static MirrorJobOptions Options(
        string? jobId, string device, string target, string? replaces, Schema.MirrorSyncMode sync, ulong? granularity, long? bufSize,
        BlockdevOnError? onSourceError, BlockdevOnError? onTargetError, Schema.MirrorCopyMode? copyMode, long? speed, bool? autoFinalize, bool? autoDismiss) => new()
    {
        JobId = jobId,
        Device = device,
        Target = target,
        Replaces = replaces,
        Sync = Sync(sync),
        UnsupportedSync = UnsupportedSync(sync),
        Granularity = (long)(granularity ?? 0),
        BufSize = bufSize ?? 0,
        OnSourceError = OnError(onSourceError),
        OnTargetError = OnError(onTargetError),
        CopyMode = CopyMode(copyMode),
        Job = JobMapping.Options(speed, null, autoFinalize, autoDismiss),
    };

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
