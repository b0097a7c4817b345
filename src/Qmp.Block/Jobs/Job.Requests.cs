using Qmp.Block.Backends;

namespace Qmp.Block.Jobs;

// The job's own requests: counted in flight for drained sections, under the on-error policy.
public abstract partial class Job
{
    /// <summary>
    /// Runs one request of the job, counted in flight for drained sections. A drain that began first
    /// makes the job pause before issuing it. Failures go through the on-error policy: the request is
    /// retried after a stop, skipped (returns false) when ignored, and fails the job when reported.
    /// </summary>
    protected ValueTask<bool> RequestAsync(bool isRead, Func<ValueTask> request, CancellationToken cancellationToken) =>
        RequestAsync(isRead, OnError, request, cancellationToken);

    /// <summary>Runs one request of the job as <see cref="RequestAsync(bool, Func{ValueTask}, CancellationToken)"/> does, under <paramref name="policy"/> (backup's on-source-error and on-target-error).</summary>
    protected async ValueTask<bool> RequestAsync(bool isRead, JobOnError policy, Func<ValueTask> request, CancellationToken cancellationToken)
    {
        while (true)
        {
            await EnterRequestAsync(cancellationToken).ConfigureAwait(false);
            _reentered = false;
            try
            {
                await request().ConfigureAwait(false);
                return true;
            }
            catch (BlockException e)
            {
                var stop = policy == JobOnError.Stop || (policy == JobOnError.Enospc && e.Error == BlockError.NoSpace);
                var action = stop ? BlockErrorAction.Stop : policy == JobOnError.Ignore ? BlockErrorAction.Ignore : BlockErrorAction.Report;
                Registry.RaiseError(this, isRead, action);
                if (action == BlockErrorAction.Report)
                    throw;
                if (action == BlockErrorAction.Ignore)
                {
                    if (IgnoredErrorsFailJob)
                        Error ??= e.Message;
                    return false;
                }
                lock (_lock)
                {
                    UserPaused = true;
                    IoFailed = true;
                }
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
            await PausePointAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Counts a request in flight, first pausing while a drained section the job does not own is in effect.</summary>
    private async ValueTask EnterRequestAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // Counted before looking at the drain count: a drain that begins after this sees the request in DrainedPoll.
            Interlocked.Increment(ref _inFlight);
            if (Volatile.Read(ref _drainPauses) == 0 || s_drainOwner.Value == this)
                return;
            Interlocked.Decrement(ref _inFlight);
            await PausePointAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="body"/> in a drained section of <paramref name="node"/> the job itself owns (it does not pause for it).</summary>
    protected async Task<T> InOwnDrainedSectionAsync<T>(BlockNode node, Func<Task<T>> body, CancellationToken cancellationToken)
    {
        s_drainOwner.Value = this;
        Interlocked.Increment(ref _ownDrains);
        try
        {
            using (await DrainedSection.BeginAsync(node, cancellationToken).ConfigureAwait(false))
                return await body().ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _ownDrains);
            s_drainOwner.Value = null;
        }
    }

    /// <inheritdoc/>
    void IBlockParent.DrainedBegin()
    {
        if (s_drainOwner.Value == this)
            return;
        Interlocked.Increment(ref _drainPauses);
    }

    /// <inheritdoc/>
    void IBlockParent.DrainedEnd()
    {
        if (s_drainOwner.Value == this)
            return;
        lock (_lock)
        {
            Interlocked.Decrement(ref _drainPauses);
            WakeIfUnpaused();
        }
    }

    /// <inheritdoc/>
    bool IBlockParent.DrainedPoll() => s_drainOwner.Value != this && Volatile.Read(ref _inFlight) > 0;
}
