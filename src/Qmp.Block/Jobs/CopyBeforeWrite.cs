using System.Buffers;

namespace Qmp.Block.Jobs;

/// <summary>
/// Backup's point-in-time state (QEMU's copy-before-write filter and block-copy state, done with a write
/// notifier on the source): which clusters still have to reach the target as they were when the job
/// started, and which are being copied. A request that is about to change a cluster still to copy
/// first copies it (or waits for the copy already running); the job's copy loop claims clusters the
/// same way, so each cluster is copied once, always with its data from before any change.
/// </summary>
internal sealed class CopyBeforeWrite : IBlockWriteNotifier
{
    private readonly object _lock = new();
    private readonly BlockNode _source;
    private readonly BlockNode _target;
    private readonly bool[] _pending;
    private readonly Dictionary<long, TaskCompletionSource> _inFlight = [];
    private readonly Action<long> _copiedByWrite;
    private readonly bool _compress;
    private long _pendingCount;

    /// <summary>
    /// Every cluster of <paramref name="source"/> starts pending; <paramref name="copiedByWrite"/> hears of copies guest writes made.
    /// With <paramref name="compress"/>, data goes to the target one cluster per request, compressed (backup's compress).
    /// </summary>
    public CopyBeforeWrite(BlockNode source, BlockNode target, int clusterSize, Action<long> copiedByWrite, bool compress)
    {
        _source = source;
        _target = target;
        _compress = compress;
        ClusterSize = clusterSize;
        Length = source.Length;
        _pending = new bool[(Length + clusterSize - 1) / clusterSize];
        Array.Fill(_pending, true);
        _pendingCount = _pending.LongLength;
        _copiedByWrite = copiedByWrite;
    }

    /// <summary>The copy granularity: the target's cluster size, at least 64 KiB (QEMU's block-copy default).</summary>
    public int ClusterSize { get; }

    /// <summary>The source's length when the job started.</summary>
    public long Length { get; }

    /// <summary>The number of clusters.</summary>
    public long ClusterCount => _pending.LongLength;

    /// <summary>Bytes still to copy.</summary>
    public long PendingBytes
    {
        get
        {
            lock (_lock)
                return Math.Min(_pendingCount * ClusterSize, Length);
        }
    }

    /// <summary>Takes <paramref name="cluster"/> out of the copy (sync top: not allocated in the top layer).</summary>
    public void Skip(long cluster)
    {
        lock (_lock)
        {
            if (_pending[cluster])
            {
                _pending[cluster] = false;
                _pendingCount--;
            }
        }
    }

    /// <summary>
    /// Claims the clusters of [<paramref name="first"/>, <paramref name="first"/>+<paramref name="count"/>) still to copy
    /// and not being copied: returns them as runs, and the copies of others in that range to wait for.
    /// </summary>
    public List<(long First, int Count)> Claim(long first, long count, List<Task>? others)
    {
        var runs = new List<(long First, int Count)>();
        lock (_lock)
        {
            var end = Math.Min(first + count, _pending.LongLength);
            for (var c = first; c < end; c++)
            {
                if (_inFlight.TryGetValue(c, out var copying))
                {
                    others?.Add(copying.Task);
                    continue;
                }
                if (!_pending[c])
                    continue;
                _inFlight[c] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (runs.Count > 0 && runs[^1].First + runs[^1].Count == c)
                    runs[^1] = (runs[^1].First, runs[^1].Count + 1);
                else
                    runs.Add((c, 1));
            }
        }
        return runs;
    }

    /// <summary>Ends a claim: the clusters are copied (no longer pending) or, on failure, pending again; waiters go on.</summary>
    public void Release((long First, int Count) run, bool copied)
    {
        var waiters = new List<TaskCompletionSource>();
        lock (_lock)
        {
            for (var c = run.First; c < run.First + run.Count; c++)
            {
                if (copied && _pending[c])
                {
                    _pending[c] = false;
                    _pendingCount--;
                }
                if (_inFlight.Remove(c, out var waiter))
                    waiters.Add(waiter);
            }
        }
        foreach (var waiter in waiters)
            waiter.TrySetResult();
    }

    /// <summary>The bytes a run of clusters covers, the last one cut at the end of the disk.</summary>
    public (long Offset, int Length) Extent((long First, int Count) run)
    {
        var offset = run.First * ClusterSize;
        return (offset, (int)Math.Min((long)run.Count * ClusterSize, Length - offset));
    }

    /// <summary>
    /// Copies a claimed run from the source to the target: stretches that read as zeroes become write-zeroes,
    /// the rest is read into <paramref name="buffer"/> and written. <paramref name="request"/> runs each read
    /// (true) or write (false) and returns false when it was skipped (on-error ignore). Returns whether all was copied.
    /// </summary>
    public async ValueTask<bool> CopyAsync((long First, int Count) run, Memory<byte> buffer, Func<bool, Func<ValueTask>, ValueTask<bool>> request, CancellationToken cancellationToken)
    {
        if (_compress)
            return await CopyCompressedAsync(run, buffer, request, cancellationToken).ConfigureAwait(false);
        var (offset, length) = Extent(run);
        var end = offset + length;
        for (var at = offset; at < end;)
        {
            var status = await _source.GetStatusAsync(at, end - at, cancellationToken).ConfigureAwait(false);
            var piece = Math.Max(1, status.Length);
            var from = at;
            if ((status.Flags & BlockStatusFlags.Zero) != 0)
            {
                if (!await request(false, () => _target.WriteZeroesAsync(from, piece, BlockWriteFlags.MayUnmap, cancellationToken)).ConfigureAwait(false))
                    return false;
            }
            else
            {
                var slice = buffer.Slice((int)(from - offset), (int)piece);
                if (!await request(true, () => _source.ReadAsync(from, slice, cancellationToken)).ConfigureAwait(false))
                    return false;
                if (!await request(false, () => _target.WriteAsync(from, slice, BlockWriteFlags.None, cancellationToken)).ConfigureAwait(false))
                    return false;
            }
            at += piece;
        }
        return true;
    }

    /// <summary>
    /// QEMU's block-copy with compression: one cluster per request; a cluster that reads as zeroes throughout becomes a
    /// write-zeroes (not compressed), any other is read whole and written compressed.
    /// </summary>
    private async ValueTask<bool> CopyCompressedAsync((long First, int Count) run, Memory<byte> buffer, Func<bool, Func<ValueTask>, ValueTask<bool>> request, CancellationToken cancellationToken)
    {
        for (var c = run.First; c < run.First + run.Count; c++)
        {
            var (from, length) = Extent((c, 1));
            var status = await _source.GetStatusAsync(from, length, cancellationToken).ConfigureAwait(false);
            if ((status.Flags & BlockStatusFlags.Zero) != 0 && status.Length >= length)
            {
                if (!await request(false, () => _target.WriteZeroesAsync(from, length, BlockWriteFlags.MayUnmap, cancellationToken)).ConfigureAwait(false))
                    return false;
                continue;
            }
            var slice = buffer.Slice((int)(from - Extent(run).Offset), length);
            if (!await request(true, () => _source.ReadAsync(from, slice, cancellationToken)).ConfigureAwait(false))
                return false;
            if (!await request(false, () => _target.WriteAsync(from, slice, BlockWriteFlags.Compressed, cancellationToken)).ConfigureAwait(false))
                return false;
        }
        return true;
    }

    /// <inheritdoc/>
    public async ValueTask BeforeWriteAsync(BlockNode node, BlockWriteRequest request, CancellationToken cancellationToken)
    {
        // The point-in-time copy needs the size fixed (QEMU's backup takes away the resize permission).
        if (request.Kind == BlockWriteKind.Truncate)
            throw new BlockException(BlockError.Permission, $"Cannot resize node '{node.NodeName}': it is the source of a running backup");
        if (request.Length == 0 || request.Offset >= Length)
            return;
        var first = request.Offset / ClusterSize;
        var count = ((Math.Min(request.Offset + request.Length, Length) - 1) / ClusterSize) - first + 1;
        while (true)
        {
            var others = new List<Task>();
            var runs = Claim(first, count, others);
            for (var i = 0; i < runs.Count; i++)
            {
                var copied = false;
                var buffer = ArrayPool<byte>.Shared.Rent(runs[i].Count * ClusterSize);
                try
                {
                    // QEMU's on-cbw-error=break-guest-write (its default): a failed copy fails the guest's write.
                    copied = await CopyAsync(runs[i], buffer, Direct, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    Release(runs[i], copied);
                    if (!copied)
                    {
                        for (var j = i + 1; j < runs.Count; j++)
                            Release(runs[j], false);
                    }
                }
                _copiedByWrite(Extent(runs[i]).Length);
            }
            if (others.Count == 0)
                return;
            // Copies others started must end before the write; one that failed leaves its clusters to the next round.
            await Task.WhenAll(others).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public ValueTask AfterWriteAsync(BlockNode node, BlockWriteRequest request, bool succeeded, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    private static async ValueTask<bool> Direct(bool isRead, Func<ValueTask> request)
    {
        await request().ConfigureAwait(false);
        return true;
    }
}
