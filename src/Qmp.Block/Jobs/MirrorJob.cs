using Qmp.Block.Backends;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Jobs;

/// <summary>
/// blockdev-mirror and drive-mirror (job type "mirror"), and active block-commit (type "commit"): copies the
/// source to the target, goes ready when they are in sync, then keeps copying guest writes until job-complete
/// pivots the source's users to the target, or block-job-cancel leaves the target as a point-in-time copy.
/// </summary>
/// <remarks>
/// QEMU puts a mirror_top filter above the source; qmpd watches the source with a write notifier instead:
/// every guest write marks the dirty bitmap after it changed the source (write-blocking mode also copies it
/// to the target before the write completes). The job clears a run of the bitmap before it reads it, and
/// copies of overlapping ranges wait for each other, so no write is lost and no stale copy lands last.
/// From convergence to the pivot the source stays drained, as QEMU keeps it, so nothing slips in between.
/// </remarks>
public sealed partial class MirrorJob : Job, IBlockWriteNotifier
{
    private const long DefaultBufSize = 16 << 20;
    // QEMU's MAX_IO_BYTES and MAX_IN_FLIGHT, within buf-size: a qcow2 target's allocating writes now proceed in
    // parallel, so more copies in flight keep both disks busy (4 x 2 MiB suited the serialised driver).
    private const long MaxIoBytes = 1 << 20;
    private const int MaxCopies = 16;
    private static readonly TimeSpan s_cancelGrace = TimeSpan.FromMilliseconds(50);
    private readonly BlockGraph _graph;
    private readonly BlockNode _source;
    private readonly BlockNode _target;
    private readonly BlockNode? _base;
    private readonly MirrorSyncMode _sync;
    private readonly string? _replaces;
    private readonly MirrorBackingMode _backingMode;
    private readonly MirrorCopyMode _copyMode;
    private readonly JobOnError _onSourceError;
    private readonly JobOnError _onTargetError;
    private readonly bool _unmap;
    private readonly long _bufSize;
    private readonly bool _commit;
    private readonly bool _baseWasReadOnly;
    private readonly bool _closeTargetAtEnd;
    private readonly MirrorDirtyBitmap _bitmap;
    private readonly MirrorInFlight _ranges = new();
    private readonly MirrorTargetUser _targetUser;
    private readonly TaskCompletionSource _completeRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _shouldComplete;
    private volatile bool _finished;
    private TaskCompletionSource? _releaseDrain;
    private Task? _heldDrain;

    private MirrorJob(BlockGraph graph, string id, MirrorSetup setup, JobOptions options)
        : base(graph.Jobs, id, options)
    {
        _graph = graph;
        _source = setup.Source;
        _target = setup.Target;
        _base = setup.Base;
        _sync = setup.Sync;
        _replaces = setup.Replaces;
        _backingMode = setup.BackingMode;
        _copyMode = setup.CopyMode;
        _onSourceError = setup.OnSourceError;
        _onTargetError = setup.OnTargetError;
        _unmap = setup.Unmap;
        _bufSize = Math.Max(setup.BufSize, setup.Granularity);
        _commit = setup.Commit;
        _baseWasReadOnly = setup.BaseWasReadOnly;
        _closeTargetAtEnd = setup.CloseTargetAtEnd;
        _bitmap = new MirrorDirtyBitmap(_source.Length, setup.Granularity);
        _targetUser = new MirrorTargetUser(this);
    }

    /// <inheritdoc/>
    public override string Type => _commit ? "commit" : "mirror";

    /// <summary>The node mirrored from.</summary>
    public BlockNode Source => _source;

    /// <summary>The node mirrored to.</summary>
    public BlockNode Target => _target;

    /// <summary>The dirty bitmap's granularity in bytes.</summary>
    public long Granularity => _bitmap.Granularity;

    /// <summary>Bytes the bitmap marks dirty.</summary>
    public long DirtyBytes => _bitmap.DirtyBytes;

    /// <inheritdoc/>
    protected override bool CanComplete => true;

    /// <inheritdoc/>
    protected override bool CanCancelSoftly => true;

    /// <inheritdoc/>
    protected override bool CancelEndsAfterReply => true;

    /// <summary>Checks blockdev-mirror's arguments as QEMU 7.2 does and starts the job (created and running are emitted before this returns).</summary>
    public static Task<MirrorJob> StartAsync(BlockGraph graph, MirrorJobOptions options, CancellationToken cancellationToken = default) =>
        graph.ChangeAsync(() => StartLockedAsync(graph, options, closeTargetAtEnd: false, cancellationToken), cancellationToken);

    /// <summary>As <see cref="StartAsync"/>, for a caller that holds the graph lock (drive-mirror).</summary>
    internal static Task<MirrorJob> StartLockedAsync(BlockGraph graph, MirrorJobOptions options, bool closeTargetAtEnd, CancellationToken cancellationToken)
    {
        var source = RootNode(graph, options.Device);
        var target = graph.Lookup(options.Target, options.Target);
        var granularity = CheckGranularity(options.Granularity);
        if (StreamJob.BusyError(source) is { } sourceBusy)
            throw new BlockGraphException(sourceBusy);
        if (StreamJob.BusyError(target) is { } targetBusy)
            throw new BlockGraphException(targetBusy);
        if (target.Users.OfType<MirrorTargetUser>().FirstOrDefault() is { } other)
            throw new BlockGraphException($"Node '{target.NodeName}' is busy: block device is in use by block job: {other.Job.Type}");
        var sync = options.Sync == MirrorSyncMode.Top && source.Backing is null ? MirrorSyncMode.Full : options.Sync;
        if (options.Replaces is { } replaces)
        {
            var node = graph.FindNode(replaces) ?? throw new BlockGraphException($"Failed to find node with node-name='{replaces}'");
            // Without filters or quorum in qmpd's graphs, only the source itself can be replaced without an abrupt change of data.
            if (node != source)
                throw new BlockGraphException($"Cannot replace '{replaces}' by a node mirrored from '{source.NodeName}', because it cannot be guaranteed that doing so would not lead to an abrupt change of visible data");
        }
        if (options.UnsupportedSync is { } unsupported)
            throw new BlockGraphException($"Sync mode '{unsupported}' not supported");
        if (options.BufSize < 0)
            throw new BlockGraphException("Invalid parameter 'buf-size'");
        if (source == target)
            throw new BlockGraphException("Can't mirror node into itself");
        if (options.FilterNodeName is not null)
            throw new BlockGraphException("Parameter 'filter-node-name' is not supported by qmpd's mirror (it inserts no filter node)");
        var setup = new MirrorSetup(source, target)
        {
            Base = sync == MirrorSyncMode.Top ? source.Backing : null,
            Sync = sync,
            Replaces = options.Replaces,
            BackingMode = options.BackingMode,
            CopyMode = options.CopyMode,
            OnSourceError = options.OnSourceError,
            OnTargetError = options.OnTargetError,
            Unmap = options.Unmap,
            BufSize = options.BufSize == 0 ? DefaultBufSize : options.BufSize,
            Granularity = granularity == 0 ? DefaultGranularity(target) : granularity,
            CloseTargetAtEnd = closeTargetAtEnd,
        };
        return CreateAsync(graph, options.JobId, setup, options.Job, cancellationToken);
    }

    /// <summary>Creates, checks the job-level arguments of and starts a mirror (also active commit's).</summary>
    internal static async Task<MirrorJob> CreateAsync(BlockGraph graph, string? jobId, MirrorSetup setup, JobOptions options, CancellationToken cancellationToken)
    {
        var id = jobId ?? BackingChain.DeviceName(setup.Source);
        graph.Jobs.CheckNewId(id);
        var job = new MirrorJob(graph, id, setup, options with { OnError = setup.OnSourceError });
        if (options.Speed < 0)
        {
            // QEMU's block_job_create makes the job before it checks the speed.
            job.CreateAndDrop();
            throw new BlockGraphException("Parameter 'speed' expects a non-negative value");
        }
        if (setup.Target.ReadOnly)
        {
            // Also refused after the job was made (QEMU's target permissions come after block_job_create).
            job.CreateAndDrop();
            throw new BlockGraphException("Block node is read-only");
        }
        if (setup.Target.Users.OfType<BlockBackend>().FirstOrDefault() is { } attached)
            throw new BlockGraphException($"Conflicts with use by {attached.Description} as 'root', which does not allow 'write' on {setup.Target.NodeName}");
        job.Use(setup.Source);
        setup.Target.AddUser(job._targetUser);
        try
        {
            // Watched from a quiet moment on, so no write in flight escapes the bitmap.
            using (await DrainedSection.BeginAsync(setup.Source, cancellationToken).ConfigureAwait(false))
                setup.Source.AddWriteNotifier(job);
            graph.Jobs.Start(job);
        }
        catch
        {
            setup.Source.RemoveWriteNotifier(job);
            job.Release(setup.Source);
            setup.Target.RemoveUser(job._targetUser);
            throw;
        }
        return job;
    }

    /// <inheritdoc/>
    protected override void CompleteRequestedLocked()
    {
        if (_replaces is not null && _graph.FindNode(_replaces) is null)
            throw new JobException($"Node name '{_replaces}' not found");
        _shouldComplete = true;
        _completeRequested.TrySetResult();
    }

    // QEMU's qmp_get_root_bs: a drive's root or a node no other node uses (a mirrored node counts as filtered, so it is not a root).
    private static BlockNode RootNode(BlockGraph graph, string device)
    {
        var node = graph.Lookup(device, device);
        if (node.ParentLinks.Count > 0 || node.Users.OfType<MirrorJob>().Any(j => j.Source == node))
            throw new BlockGraphException("Need a root block node");
        return node;
    }

    // blockdev_mirror_common's checks, in its order.
    private static long CheckGranularity(long granularity)
    {
        if (granularity != 0 && (granularity < 512 || granularity > 64L << 20))
            throw new BlockGraphException("Parameter 'granularity' expects a value in range [512B, 64MB]");
        if ((granularity & (granularity - 1)) != 0)
            throw new BlockGraphException("Parameter 'granularity' expects a power of 2");
        return granularity;
    }

    /// <summary>QEMU's bdrv_get_default_bitmap_granularity: the target's cluster size within 4 KiB..64 KiB, 64 KiB without clusters.</summary>
    internal static long DefaultGranularity(BlockNode target) =>
        target is Qcow2Node qcow2 ? Math.Clamp(qcow2.ClusterSize, 4096, 65536) : 65536;
}
