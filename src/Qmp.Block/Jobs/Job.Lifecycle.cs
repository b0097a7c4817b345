namespace Qmp.Block.Jobs;

public abstract partial class Job
{
    /// <summary>created, then running: both events precede the command's reply, as in QEMU; the work runs on the thread pool.</summary>
    internal void Start()
    {
        // A transaction created the job already (created in its prepare, running in its commit).
        if (Status == JobStatus.Undefined)
            Transition(JobStatus.Created);
        Transition(JobStatus.Running);
        Busy = true;
        // QEMU enters a new job at once: its first piece of work comes before a user pause.
        _reentered = true;
        // Started inside a drained section (a transaction's), the job pauses at once and runs when the section ends, as in QEMU.
        lock (_lock)
        {
            if (Volatile.Read(ref _drainPauses) > 0)
                EnterPausedLocked();
        }
        _run = Task.Run(RunToCompletionAsync);
    }

    /// <summary>
    /// created, then null at once: QEMU's block_job_create makes the job before it checks the speed, so a
    /// refused speed shows both events before the error. The job never runs nor enters the registry.
    /// </summary>
    internal void CreateAndDrop()
    {
        lock (_lock)
        {
            Transition(JobStatus.Created);
            VanishLocked();
        }
        _concluded.TrySetResult();
    }

    /// <summary>
    /// job-pause: a user pause. A job asleep at a pause point pauses at once; a busy one at its next pause
    /// point, which this waits for (briefly), so the paused event precedes the reply as QEMU's usually does.
    /// </summary>
    public async Task PauseAsync(CancellationToken cancellationToken = default)
    {
        Task? moved = null;
        lock (_lock)
        {
            CheckVerb(JobVerb.Pause);
            if (UserPaused)
                throw new JobException("Job is already paused");
            UserPaused = true;
            if (!Busy && !_isPaused && Status is JobStatus.Running or JobStatus.Ready)
                EnterPausedLocked();
            else if (!_isPaused)
                moved = NextTransitionLocked();
        }
        if (moved is not null)
            await WaitBrieflyAsync(moved, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>job-resume: ends the user pause (and clears a failed I/O status).</summary>
    public void Resume()
    {
        lock (_lock)
        {
            if (!UserPaused)
                throw new JobException("Can't resume a job that was not paused");
            CheckVerb(JobVerb.Resume);
            UserPaused = false;
            IoFailed = false;
            WakeIfUnpaused();
        }
    }

    /// <summary>block-job-set-speed.</summary>
    public void SetSpeed(long speed)
    {
        lock (_lock)
        {
            CheckVerb(JobVerb.SetSpeed);
            if (speed < 0)
                throw new JobException("Parameter 'speed' expects a non-negative value");
            _limiter.Speed = speed;
            if (!_isPaused && Status is JobStatus.Running or JobStatus.Ready)
            {
                Busy = true;
                KickLocked();
            }
        }
    }

    /// <summary>job-complete.</summary>
    public void Complete()
    {
        lock (_lock)
        {
            CheckVerb(JobVerb.Complete);
            if (CancelRequested || SoftCancelRequested || !CanComplete)
                throw new JobException($"The active block job '{Id}' cannot be completed");
            CompleteRequestedLocked();
        }
    }

    /// <summary>job-cancel: the job stops at its next pause point (a user pause is lifted first); a pending job aborts now.</summary>
    public async Task CancelAsync(CancellationToken cancellationToken = default)
    {
        bool abortNow;
        lock (_lock)
        {
            CheckVerb(JobVerb.Cancel);
            UserPaused = false;
            // A pending job that is finalizing already finishes that way.
            abortNow = (Status == JobStatus.Pending || (Status == JobStatus.Waiting && Transaction is not null)) && !_finalizing;
            if (abortNow && Transaction is null)
                _finalizing = true;
        }
        // Cancelled before it is woken: a paused job must not take the wake-up for a resume and copy on.
        _cancel.Cancel();
        lock (_lock)
        {
            // A cancelled job does not stay paused, even in a drained section (QEMU's job_pause_point).
            if (_isPaused)
                ExitPausedLocked();
            _resume?.TrySetResult();
        }
        if (abortNow && Transaction is { } transaction)
            await transaction.AbortAsync().ConfigureAwait(false);
        else if (abortNow)
            await FailAsync(null, cancelled: true, cancellationToken).ConfigureAwait(false);
        else if (!CancelEndsAfterReply)
            // QEMU runs a cancelled job to its end before replying when it can; so does qmpd, within reason.
            await WaitBrieflyAsync(Transaction?.Completion ?? Completion, cancellationToken).ConfigureAwait(false);
    }

    // Waits for the job to move on, for at most a few seconds (a job stuck in I/O must not hold the monitor).
    private static async Task WaitBrieflyAsync(Task task, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>job-finalize: makes the graph changes of a pending job.</summary>
    public Task FinalizeAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
            CheckVerb(JobVerb.Finalize);
        return Transaction is { } transaction ? transaction.FinalizeAllAsync() : FinalizePendingAsync(cancellationToken);
    }

    /// <summary>job-dismiss: a concluded job goes away.</summary>
    public void Dismiss()
    {
        lock (_lock)
        {
            CheckVerb(JobVerb.Dismiss);
            VanishLocked();
        }
    }

    /// <summary>
    /// A pause point: returns at once unless a pause is in effect, else goes paused (standby when ready)
    /// until every pause ended. A cancelled job does not pause; it throws <see cref="OperationCanceledException"/>.
    /// </summary>
    protected async ValueTask PausePointAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Task wait;
        lock (_lock)
        {
            if (PauseCount == 0 && !_isPaused)
                return;
            // Re-entered by resume or set-speed, the job does its next piece of work before a user pause takes it (QEMU enters it synchronously).
            if (_reentered && !_isPaused && Volatile.Read(ref _drainPauses) == 0)
            {
                _reentered = false;
                return;
            }
            if (!_isPaused)
                EnterPausedLocked();
            // Shared by callers that pause at once (a job's concurrent requests during a drain): one resume wakes them all.
            _resume = _resume is { Task.IsCompleted: false } pending ? pending : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _resume.Task;
        }
        while (true)
        {
            await wait.ConfigureAwait(false);
            lock (_lock)
            {
                // Resume, drained-section end or cancel may have moved the status back already.
                if (!_isPaused)
                    break;
                if (PauseCount == 0 || CancelRequested)
                {
                    ExitPausedLocked();
                    break;
                }
                _resume = _resume is { Task.IsCompleted: false } pending ? pending : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _resume.Task;
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Accounts copied bytes against the rate limit and sleeps as needed (a pause point too).</summary>
    protected ValueTask ThrottleAsync(long bytes, CancellationToken cancellationToken) => ThrottleAsync(bytes, null, cancellationToken);

    /// <summary>As <see cref="ThrottleAsync(long, CancellationToken)"/>; <paramref name="accounted"/> runs once the bytes show in the progress and the job is no longer busy, before any sleep.</summary>
    protected async ValueTask ThrottleAsync(long bytes, Action? accounted, CancellationToken cancellationToken)
    {
        AddProgress(bytes);
        _reentered = false;
        Task kicked;
        lock (_lock)
        {
            Busy = false;
            kicked = _kick.Task;
        }
        // Accounted after taking the kick signal: a set-speed in between either shows in the deadline or ends the sleep.
        var until = _limiter.Account(bytes);
        accounted?.Invoke();
        try
        {
            // Short naps towards an absolute deadline, so set-speed, pause and cancel take effect while throttled.
            // Like QEMU's job_sleep_ns, the sleep ends early when the job is kicked (resume, set-speed).
            while (Environment.TickCount64 < until && !kicked.IsCompleted)
            {
                // Never 0 or -1 (infinite): the deadline may pass between the test and the delay.
                var nap = (int)Math.Clamp(until - Environment.TickCount64, 1, 50);
                await Task.WhenAny(Task.Delay(nap, cancellationToken), kicked).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (kicked.IsCompleted)
                    break;
                await PausePointAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            lock (_lock)
            {
                if (!_isPaused)
                    Busy = true;
            }
        }
        // Kicked, the job goes straight on to its next piece of work.
        if (!kicked.IsCompleted)
            await PausePointAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Cancels the job and waits until it concluded (shutdown).</summary>
    internal async Task CancelAndWaitAsync()
    {
        try
        {
            await CancelAsync().ConfigureAwait(false);
        }
        catch (JobException)
        {
            // Already finishing (waiting, aborting, concluded): just wait for it.
        }
        await _run.ConfigureAwait(false);
    }

    // The last pause ended: the job goes back to running (or ready) now, as QEMU's job_resume re-enters it.
    private void WakeIfUnpaused()
    {
        if (PauseCount != 0)
            return;
        if (_isPaused)
            ExitPausedLocked();
        _resume?.TrySetResult();
    }

    // null: the job lets go of its nodes (until then blockdev-del refuses them, as in QEMU) and leaves the registry
    // before the event says so: QEMU does all three at once, so a client that saw "null" finds neither job nor busy node.
    private void VanishLocked()
    {
        List<BlockNode> nodes;
        lock (_nodes)
            nodes = [.. _nodes];
        foreach (var node in nodes)
            Release(node);
        Registry.Remove(this);
        Transition(JobStatus.Null);
    }

    private void KickLocked()
    {
        _reentered = true;
        var kick = _kick;
        _kick = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        kick.TrySetResult();
    }

    private Task NextTransitionLocked()
    {
        _transitioned ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _transitioned.Task;
    }

    private void EnterPausedLocked()
    {
        _resumeTo = Status;
        Transition(Status == JobStatus.Ready ? JobStatus.Standby : JobStatus.Paused);
        _isPaused = true;
        Busy = false;
    }

    private void ExitPausedLocked()
    {
        Transition(_resumeTo);
        _isPaused = false;
        // Re-entered, the job runs on at once (QEMU's job_enter): a throttling sleep ends.
        Busy = true;
        KickLocked();
    }

    private async Task RunToCompletionAsync()
    {
        Exception? failure = null;
        try
        {
            await RunAsync(_cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (CancelRequested)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }
        _runReturned = true;
        // In a transaction the others decide when this job goes on (QEMU's JobTxn).
        if (Transaction is { } transaction)
        {
            await transaction.JobRanAsync(this, failure).ConfigureAwait(false);
            return;
        }
        if (failure is null && !CancelRequested)
        {
            lock (_lock)
            {
                Busy = false;
                Transition(JobStatus.Waiting);
                Transition(JobStatus.Pending);
                if (!AutoFinalize)
                    Registry.RaisePending(this);
            }
            if (AutoFinalize)
                await FinalizePendingAsync(CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            await FailAsync(failure, failure is null, CancellationToken.None).ConfigureAwait(false);
        }
    }

    // pending -> commit -> BLOCK_JOB_COMPLETED -> concluded (-> null).
    private async Task FinalizePendingAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_finalizing)
                return;
            _finalizing = true;
        }
        try
        {
            await CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BlockException or BlockGraphException or IOException)
        {
            await FailAsync(e, cancelled: false, cancellationToken).ConfigureAwait(false);
            return;
        }
        Registry.RaiseCompleted(this);
        Conclude();
    }

    // aborting -> abort -> BLOCK_JOB_CANCELLED or BLOCK_JOB_COMPLETED with the error -> concluded (-> null).
    private async Task FailAsync(Exception? failure, bool cancelled, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Busy = false;
            if (failure is not null)
                Error = BlockException.Summary(failure);
            else if (cancelled)
                Error ??= "Operation canceled";
            Transition(JobStatus.Aborting);
        }
        try
        {
            await AbortAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BlockException or BlockGraphException or IOException)
        {
            // Abort is best effort, as in QEMU; the job's error already tells what went wrong.
        }
        if (cancelled && failure is null)
            Registry.RaiseCancelled(this);
        else
            Registry.RaiseCompleted(this);
        Conclude();
    }

    private void Conclude()
    {
        lock (_lock)
        {
            Transition(JobStatus.Concluded);
            if (AutoDismiss)
                VanishLocked();
        }
        _concluded.TrySetResult();
    }
}
