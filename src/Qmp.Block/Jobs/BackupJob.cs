namespace Qmp.Block.Jobs;

/// <summary>
/// blockdev-backup and drive-backup (job type "backup"): a point-in-time copy of the source as of the job's
/// start. Copy-before-write (<see cref="CopyBeforeWrite"/>) saves the old data of every cluster a request is
/// about to change; the job's copy loop copies the rest and skips what was copied already. sync full copies
/// the whole disk, top only what the source's top layer allocated at the start, none only what is overwritten.
/// </summary>
/// <remarks>
/// The job is made in a transaction's prepare (<see cref="Transactions.BlockTransaction"/>): the source is
/// drained while the notifier goes in, so the starting point is one instant; the job starts in the commit.
/// </remarks>
public sealed partial class BackupJob : Job
{
    private const int ChunkSize = 1 << 20;
    private const int ParallelChunks = 8;
    private const int BigChunkFactor = 2;
    private readonly BackupSyncMode _sync;
    private readonly JobOnError _onSourceError;
    private readonly JobOnError _onTargetError;
    private readonly Func<Task>? _closeTarget;
    private readonly bool _stopsOnError;
    private readonly bool _compress;
    private CopyBeforeWrite? _cbw;
    private BlockException? _firstFailure;
    private int _cleaned;

    private BackupJob(BlockGraph graph, string id, BlockNode source, BlockNode target, BackupJobOptions options, Func<Task>? closeTarget)
        : base(graph.Jobs, id, options.Job)
    {
        Source = source;
        Target = target;
        _sync = options.Sync;
        _onSourceError = options.OnSourceError;
        _onTargetError = options.OnTargetError;
        _closeTarget = closeTarget;
        _compress = options.Compress;
        // A stop pauses the job at the failed request; one request at a time keeps that to one error and one pause.
        _stopsOnError = options.OnSourceError is JobOnError.Stop or JobOnError.Enospc || options.OnTargetError is JobOnError.Stop or JobOnError.Enospc;
    }

    /// <inheritdoc/>
    public override string Type => "backup";

    /// <summary>The node backed up.</summary>
    public BlockNode Source { get; }

    /// <summary>The node the copy goes to.</summary>
    public BlockNode Target { get; }

    /// <summary>
    /// Checks the arguments as QEMU 7.2 does and makes the job (not started, not yet in the registry): it uses
    /// source and target. <paramref name="closeTarget"/> (drive-backup) runs once the job let go of the target.
    /// </summary>
    internal static BackupJob Create(BlockGraph graph, BackupJobOptions options, BlockNode? target, Func<Task>? closeTarget, IReadOnlyCollection<string> idsTaken)
    {
        var source = graph.Lookup(options.Device, options.Device);
        target ??= graph.Lookup(options.Target, options.Target);
        // QEMU 7.2's order of checks.
        if (options.Sync is BackupSyncMode.Bitmap or BackupSyncMode.Incremental)
            throw new BlockGraphException($"must provide a valid bitmap name for '{(options.Sync == BackupSyncMode.Bitmap ? "bitmap" : "incremental")}' sync mode");
        if (source == target)
            throw new BlockGraphException("Source and target cannot be the same");
        if (options.Compress)
            CheckCompression(target);
        if (StreamJob.BusyError(source) is { } sourceBusy)
            throw new BlockGraphException(sourceBusy);
        if (StreamJob.BusyError(target) is { } targetBusy)
            throw new BlockGraphException(targetBusy);
        if (!target.Writable)
            throw new BlockGraphException($"Node '{target.NodeName}' is read only");
        if (source.Length != target.Length)
            throw new BlockGraphException("Source and target image have different sizes");
        var id = options.JobId ?? BackingChain.DeviceName(source);
        graph.Jobs.CheckNewId(id);
        if (idsTaken.Contains(id))
            throw new JobException($"Job ID '{id}' already in use");
        var job = new BackupJob(graph, id, source, target, options, closeTarget);
        if (options.Job.Speed < 0)
        {
            // QEMU makes the job before it checks the speed: created and null precede the error.
            job.CreateAndDrop();
            throw new BlockGraphException("Parameter 'speed' expects a non-negative value");
        }
        job.Use(source);
        job.Use(target);
        return job;
    }

    /// <summary>
    /// Sets the starting point: the copy state and the notifier go in while the source is drained (the caller's
    /// drained section), and sync top looks up what the top layer allocates now.
    /// </summary>
    internal async Task InstallAsync(CancellationToken cancellationToken)
    {
        var clusterSize = Math.Max(65536, Target.DescribeImage().ClusterSize ?? 0);
        var cbw = new CopyBeforeWrite(Source, Target, clusterSize, CopiedByWrite, _compress);
        if (_sync == BackupSyncMode.Top)
        {
            for (long at = 0; at < cbw.Length;)
            {
                var status = await Source.GetStatusAsync(at, cbw.Length - at, cancellationToken).ConfigureAwait(false);
                var length = Math.Max(1, status.Length);
                if ((status.Flags & BlockStatusFlags.Allocated) == 0)
                {
                    // Only clusters wholly unallocated drop out (the last one may end early, at the end of the disk).
                    var end = at + length;
                    var last = end >= cbw.Length ? cbw.ClusterCount : end / clusterSize;
                    for (var c = (at + clusterSize - 1) / clusterSize; c < last; c++)
                        cbw.Skip(c);
                }
                at += length;
            }
        }
        // QEMU counts the whole disk as sync none's work, done only as the guest overwrites it.
        SetTotal(_sync == BackupSyncMode.None ? cbw.Length : cbw.PendingBytes);
        _cbw = cbw;
        Source.AddWriteNotifier(cbw);
    }

    /// <inheritdoc/>
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        // Started in a transaction's drained section, the job waits here for its end.
        await PausePointAsync(cancellationToken).ConfigureAwait(false);
        var cbw = _cbw!;
        if (_sync == BackupSyncMode.None)
        {
            await IdleUntilCancelledAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        Func<bool, Func<ValueTask>, ValueTask<bool>> request = (isRead, io) => RequestAsync(isRead, isRead ? _onSourceError : _onTargetError, () => FirstFailureOnlyAsync(isRead, io), cancellationToken);
        var perChunk = Math.Max(1, ChunkSize / cbw.ClusterSize);
        // Clusters skipped (on-error ignore) or left to a failed copy-before-write get further passes while they progress.
        for (var pass = 0; cbw.PendingBytes > 0; pass++)
        {
            var before = cbw.PendingBytes;
            var skipped = false;
            // Unthrottled, several chunks are in flight (reads of one overlap writes of another, as QEMU's block-copy
            // workers do); throttled, one at a time, so the rate limit and the progress it reports stay exact.
            var window = new Queue<Task<(long Copied, bool Skipped)>>();
            try
            {
                for (long first = 0; first < cbw.ClusterCount;)
                {
                    await PausePointAsync(cancellationToken).ConfigureAwait(false);
                    // Unthrottled, 2 MiB chunks, 8 in flight: a qcow2 target allocates per request but writes the data of
                    // several at once, so many mid-sized requests keep both disks busy (measured with qmp-bench block --only backup).
                    var count = Speed == 0 ? perChunk * BigChunkFactor : perChunk;
                    var (chunkFirst, waitForOthers) = (first, pass > 0);
                    window.Enqueue(InFlightAsync(() => CopyChunkAsync(cbw, chunkFirst, count, waitForOthers, request, cancellationToken), cancellationToken));
                    first += count;
                    while (window.Count >= (Speed == 0 && !_stopsOnError ? ParallelChunks : 1))
                        skipped |= await RetireAsync(window.Dequeue(), cancellationToken).ConfigureAwait(false);
                }
                while (window.Count > 0)
                    skipped |= await RetireAsync(window.Dequeue(), cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // No request of the job may outlive it.
                foreach (var pending in window)
                {
                    try
                    {
                        await pending.ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is BlockException or OperationCanceledException or IOException)
                    {
                    }
                }
                if (_firstFailure is { } first && !CancelRequested)
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
                throw;
            }
            if (cbw.PendingBytes == before && (skipped || pass > 0))
                break;
        }
        // Like QEMU's, the job does not flush the target: the copy is in it, as durable as any write until
        // someone flushes or closes the node (drive-backup's own target is flushed as it closes).
        if (cbw.PendingBytes > 0)
            throw new BlockException(BlockError.Io, Error ?? "Input/output error");
    }

    /// <inheritdoc/>
    protected override Task CommitAsync(CancellationToken cancellationToken) => CleanUpAsync();

    /// <inheritdoc/>
    protected override Task AbortAsync(CancellationToken cancellationToken) => CleanUpAsync();

    // QEMU's backup_clean: the copy-before-write goes, the job lets go of its nodes, drive-backup's target closes.
    private async Task CleanUpAsync()
    {
        if (Interlocked.Exchange(ref _cleaned, 1) != 0)
            return;
        if (_cbw is { } cbw)
            Source.RemoveWriteNotifier(cbw);
        Release(Source);
        Release(Target);
        if (_closeTarget is not null)
            await _closeTarget().ConfigureAwait(false);
    }

    // QEMU's backup_job_create: the target's driver must take compressed writes. The text ends in the target's device
    // name, empty for a node without one (QEMU's trailing space).
    private static void CheckCompression(BlockNode target)
    {
        if (!target.SupportsCompressedWrites)
            throw new BlockGraphException($"Compression is not supported for this drive {BackingChain.DeviceName(target)}");
        if (target.CompressedWritesUnavailable is { } error)
            throw new BlockGraphException(error);
    }

    // A guest write copied clusters: they count as progress.
    private void CopiedByWrite(long bytes) => AddProgress(bytes);
}
