namespace Qmp.Block.Jobs;

// The job's loop: the initial bitmap, copying dirty runs with up to buf-size in flight, ready, convergence.
public sealed partial class MirrorJob
{
    /// <inheritdoc/>
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var length = _source.Length;
        if (_commit && _target.Length < length)
            await _target.TruncateAsync(length, cancellationToken).ConfigureAwait(false);
        else if (!_commit && _target.Length != length)
            throw new BlockException(BlockError.Invalid, "Source and target image have different sizes");
        if (_sync != MirrorSyncMode.None)
            await DirtyInitAsync(length, cancellationToken).ConfigureAwait(false);
        var maxChunks = (int)Math.Max(1, Math.Min(MaxIoBytes, _bufSize) / _bitmap.Granularity);
        // The copies under way and their bytes, counted from the moment they are taken from the bitmap: a copy may
        // wait (for a drain, for an overlapping range) before it holds its range, and must count against buf-size
        // meanwhile, as QEMU's in_flight_bytes does. A list of pairs, not a dictionary: copies that end at once may
        // share one cached completed task.
        var running = new List<(Task<(long Copied, long Zeroed)> Task, long Bytes)>();
        var runningBytes = 0L;
        try
        {
            while (true)
            {
                // QEMU sets the remaining work at the top of each iteration too.
                SetTotal(CurrentProgress + _bitmap.DirtyBytes + runningBytes);
                await PausePointAsync(cancellationToken).ConfigureAwait(false);
                while (runningBytes < _bufSize && running.Count < MaxCopies && _bitmap.TryTake(maxChunks, out var offset, out var bytes))
                {
                    running.Add((CopyRunAsync(offset, bytes, cancellationToken), bytes));
                    runningBytes += bytes;
                }
                if (running.Count > 0)
                {
                    var index = await NextDoneAsync(running).ConfigureAwait(false);
                    var done = running[index];
                    running.RemoveAt(index);
                    runningBytes -= done.Bytes;
                    var (copied, zeroed) = await done.Task.ConfigureAwait(false);
                    AddProgress(zeroed);
                    // Only copied data counts against the speed, as in QEMU (zeroes cost the target little).
                    if (copied > 0)
                        await ThrottleAsync(copied, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (Status == JobStatus.Running)
                {
                    await _target.FlushAsync(cancellationToken).ConfigureAwait(false);
                    // Nothing dirty, nothing in flight, the target stable: QEMU's job_transition_to_ready.
                    EnterReady();
                }
                if (_shouldComplete || SoftCancelRequested)
                {
                    if (await ConvergeAsync(cancellationToken).ConfigureAwait(false))
                        return;
                    continue;
                }
                await IdleAsync(Task.WhenAny(_bitmap.WhenDirty, _completeRequested.Task, SoftCancelled), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // No copy outlives the loop: a failed or cancelled job must not write the target afterwards. Copies
            // already under way finish and count, as QEMU's in-flight operations do (BLOCK_JOB_CANCELLED's offset).
            foreach (var (copy, _) in running)
            {
                try
                {
                    var (copied, zeroed) = await copy.ConfigureAwait(false);
                    AddProgress(copied + zeroed);
                }
                catch (Exception e) when (e is BlockException or OperationCanceledException or IOException)
                {
                }
            }
            // QEMU ends a cancelled mirror in a bottom half, after the monitor's reply; a short pause gives the
            // reply the same lead here (job-cancel's events follow its reply).
            if (CancelRequested)
                await Task.Delay(s_cancelGrace, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<int> NextDoneAsync(List<(Task<(long Copied, long Zeroed)> Task, long Bytes)> running)
    {
        var done = await Task.WhenAny(running.Select(r => r.Task)).ConfigureAwait(false);
        return running.FindIndex(r => r.Task == done);
    }

    // QEMU's mirror_dirty_init: full marks everything; top what the top allocates; commit what the chain above the base allocates.
    private async Task DirtyInitAsync(long length, CancellationToken cancellationToken)
    {
        if (_sync == MirrorSyncMode.Full && !_commit)
        {
            _bitmap.Set(0, length);
            return;
        }
        for (long offset = 0; offset < length;)
        {
            await PausePointAsync(cancellationToken).ConfigureAwait(false);
            var (run, allocated) = await AllocatedAboveBaseAsync(offset, length - offset, cancellationToken).ConfigureAwait(false);
            if (allocated)
                _bitmap.Set(offset, run);
            offset += run;
        }
    }

    // How long the run at offset is and whether a node from the source down to (not including) the base allocates it.
    private async Task<(long Length, bool Allocated)> AllocatedAboveBaseAsync(long offset, long length, CancellationToken cancellationToken)
    {
        for (BlockNode? node = _source; node is not null && node != _base; node = node.Backing)
        {
            if (offset >= node.Length)
                continue;
            var status = await node.GetStatusAsync(offset, Math.Min(length, node.Length - offset), cancellationToken).ConfigureAwait(false);
            var run = Math.Max(1, status.Length);
            if ((status.Flags & BlockStatusFlags.Allocated) != 0)
                return (run, true);
            length = Math.Min(length, run);
        }
        return (length, false);
    }

    // Nothing dirty and nothing in flight: drain the source and hold it drained until the job's end if that is still so.
    private async Task<bool> ConvergeAsync(CancellationToken cancellationToken)
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _releaseDrain = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = _releaseDrain.Task;
        _heldDrain = InOwnDrainedSectionAsync(_source, async () =>
        {
            entered.TrySetResult();
            await release.ConfigureAwait(false);
            return true;
        }, CancellationToken.None);
        await Task.WhenAny(entered.Task, _heldDrain).ConfigureAwait(false);
        await (_heldDrain.IsFaulted ? _heldDrain : Task.CompletedTask).ConfigureAwait(false);
        try
        {
            if (_bitmap.Count == 0 && _ranges.IsEmpty)
            {
                await _target.FlushAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
        catch
        {
            await ReleaseDrainAsync().ConfigureAwait(false);
            throw;
        }
        await ReleaseDrainAsync().ConfigureAwait(false);
        return false;
    }

    private async Task ReleaseDrainAsync()
    {
        var held = _heldDrain;
        _releaseDrain?.TrySetResult();
        _heldDrain = null;
        _releaseDrain = null;
        if (held is not null)
            await held.ConfigureAwait(false);
    }
}
