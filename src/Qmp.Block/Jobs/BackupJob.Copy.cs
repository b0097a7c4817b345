using System.Buffers;

namespace Qmp.Block.Jobs;

// The copy loop's pieces: chunks in flight, their claims on the copy-before-write state, failures.
public sealed partial class BackupJob
{
    // With several chunks in flight, the first failure under on-error report is the job's error (one BLOCK_JOB_ERROR,
    // as QEMU's block-copy reports one per call); requests failing after it end quietly, as cancelled.
    private async ValueTask FirstFailureOnlyAsync(bool isRead, Func<ValueTask> io)
    {
        if ((isRead ? _onSourceError : _onTargetError) != JobOnError.Report)
        {
            await io().ConfigureAwait(false);
            return;
        }
        if (Volatile.Read(ref _firstFailure) is not null)
            throw new OperationCanceledException("an earlier request of the backup failed");
        try
        {
            await io().ConfigureAwait(false);
        }
        catch (BlockException e) when (Interlocked.CompareExchange(ref _firstFailure, e, null) is not null)
        {
            throw new OperationCanceledException("an earlier request of the backup failed", e);
        }
    }

    // A chunk's copy ended: its bytes count against the rate limit (a pause point too).
    private async Task<bool> RetireAsync(Task<(long Copied, bool Skipped)> chunk, CancellationToken cancellationToken)
    {
        var (copied, skipped) = await chunk.ConfigureAwait(false);
        if (copied > 0)
            await ThrottleAsync(copied, cancellationToken).ConfigureAwait(false);
        return skipped;
    }

    // Copies the clusters of one chunk still to copy; in later passes it also waits for copy-before-writes in flight there.
    private static async Task<(long Copied, bool Skipped)> CopyChunkAsync(CopyBeforeWrite cbw, long first, long count, bool waitForOthers, Func<bool, Func<ValueTask>, ValueTask<bool>> request, CancellationToken cancellationToken)
    {
        var others = waitForOthers ? new List<Task>() : null;
        var runs = cbw.Claim(first, count, others);
        long copied = 0;
        var buffer = runs.Count == 0 ? null : ArrayPool<byte>.Shared.Rent((int)count * cbw.ClusterSize);
        try
        {
            for (var i = 0; i < runs.Count; i++)
            {
                var ok = false;
                try
                {
                    ok = await cbw.CopyAsync(runs[i], buffer.AsMemory(0, runs[i].Count * cbw.ClusterSize), request, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    cbw.Release(runs[i], ok);
                    if (!ok)
                    {
                        for (var j = i + 1; j < runs.Count; j++)
                            cbw.Release(runs[j], false);
                    }
                }
                if (!ok)
                    return (copied, true);
                copied += cbw.Extent(runs[i]).Length;
            }
        }
        finally
        {
            if (buffer is not null)
                ArrayPool<byte>.Shared.Return(buffer);
        }
        if (others is { Count: > 0 })
            await Task.WhenAll(others).WaitAsync(cancellationToken).ConfigureAwait(false);
        return (copied, false);
    }
}
