namespace Qmp.Block.Jobs;

// What jobs that go READY (mirror, active commit) need from the core: the ready transition, an idle wait
// that job-pause/resume/set-speed/cancel wake, job-complete's hook and block-job-cancel without force.
public abstract partial class Job
{
    // A lasting signal rather than a kick: a job that checked for it just before the request must still wake for it.
    private readonly TaskCompletionSource _softCancel = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether block-job-cancel without force asked a ready job to finish without its graph change (QEMU's soft cancel).</summary>
    public bool SoftCancelRequested => _softCancel.Task.IsCompleted;

    /// <summary>Completes when a soft cancel was requested; for a ready job's idle wait.</summary>
    protected Task SoftCancelled => _softCancel.Task;

    /// <summary>Whether a cancel without force of this job, when ready, finishes it successfully instead (mirror).</summary>
    protected virtual bool CanCancelSoftly => false;

    /// <summary>Whether a cancelled job ends after the command's reply (mirror: QEMU finishes it in a bottom half), so cancel does not wait for it.</summary>
    protected virtual bool CancelEndsAfterReply => false;

    /// <summary>job-complete was accepted (the job is ready); called under the job's lock. Throwing a <see cref="JobException"/> refuses it.</summary>
    protected virtual void CompleteRequestedLocked()
    {
    }

    /// <summary>
    /// block-job-cancel: with <paramref name="force"/>, or unless the job is ready and supports it, as
    /// <see cref="CancelAsync(CancellationToken)"/>. Otherwise the job converges and completes successfully
    /// without its graph change (a ready mirror: the target is a point-in-time copy); the reply does not wait for that.
    /// </summary>
    public async Task CancelAsync(bool force, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            CheckVerb(JobVerb.Cancel);
            if (!force && CanCancelSoftly && Status is JobStatus.Ready or JobStatus.Standby)
            {
                _softCancel.TrySetResult();
                UserPaused = false;
                WakeIfUnpaused();
                KickLocked();
                return;
            }
        }
        await CancelAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>running → ready: JOB_STATUS_CHANGE then BLOCK_JOB_READY. Called by the run method between pause points.</summary>
    protected void EnterReady()
    {
        lock (_lock)
        {
            if (Status != JobStatus.Running)
                return;
            Transition(JobStatus.Ready);
            // Ready with nothing to copy, the job sleeps next, as QEMU's yields before the monitor runs again.
            Busy = false;
            Registry.RaiseReady(this);
        }
    }

    /// <summary>
    /// Sleeps without work in flight (not busy) until <paramref name="wake"/> completes or the job is kicked
    /// (resume, set-speed, soft cancel) or cancelled, then passes a pause point.
    /// </summary>
    protected async ValueTask IdleAsync(Task wake, CancellationToken cancellationToken)
    {
        Task kicked;
        bool pauseAsked;
        lock (_lock)
        {
            Busy = false;
            kicked = _kick.Task;
            // A pause asked for while the job was busy waits for its next pause point: that is now, not after the sleep
            // (QEMU's job_pause enters a sleeping job). One asked for from here on finds the job idle and takes it at once.
            pauseAsked = PauseCount > 0 && !_isPaused;
            if (pauseAsked)
                _reentered = false;
        }
        try
        {
            if (!pauseAsked && !wake.IsCompleted && !kicked.IsCompleted)
                await Task.WhenAny(wake, kicked, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (!_isPaused)
                    Busy = true;
            }
        }
        await PausePointAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What <paramref name="policy"/> does with a failed request: raises BLOCK_JOB_ERROR, pauses the job (as a
    /// user pause, taking effect at its next pause point) for stop, and returns the action; report is the caller's to fail the job with.
    /// </summary>
    protected Backends.BlockErrorAction ApplyErrorPolicy(bool isRead, JobOnError policy, BlockException error)
    {
        var stop = policy == JobOnError.Stop || (policy == JobOnError.Enospc && error.Error == BlockError.NoSpace);
        var action = stop ? Backends.BlockErrorAction.Stop : policy == JobOnError.Ignore ? Backends.BlockErrorAction.Ignore : Backends.BlockErrorAction.Report;
        Registry.RaiseError(this, isRead, action);
        if (stop)
        {
            lock (_lock)
            {
                UserPaused = true;
                IoFailed = true;
            }
        }
        return action;
    }
}
