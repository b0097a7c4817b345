namespace Qmp.Block.Jobs;

// What a job transaction (JobTransaction, QEMU's JobTxn) and the QMP transaction command need of a job.
public abstract partial class Job
{
    /// <summary>The transaction whose jobs complete together, or null (completion-mode individual).</summary>
    internal JobTransaction? Transaction { get; set; }

    /// <summary>The job's run task (to wait for a job the transaction cancelled).</summary>
    internal Task RunTask => _run;

    /// <summary>Whether the job's run method returned and the job waits for its transaction.</summary>
    internal bool RanToEnd { get; private set; }

    /// <summary>What made the job's run fail, if it did (for the transaction's abort).</summary>
    internal Exception? RunFailure { get; private set; }

    /// <summary>created: a transaction's prepare made the job; it starts (running) in the commit or goes away (<see cref="DiscardUnstartedAsync"/>).</summary>
    internal void MarkCreated() => Transition(JobStatus.Created);

    /// <summary>A job a failed transaction never started: aborting, concluded (null), without BLOCK_JOB_* events, as QEMU.</summary>
    internal async Task DiscardUnstartedAsync()
    {
        lock (_lock)
        {
            Error ??= "Operation canceled";
            Transition(JobStatus.Aborting);
        }
        try
        {
            await AbortAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BlockException or BlockGraphException or IOException)
        {
            // Best effort, as every abort.
        }
        Conclude();
    }

    /// <summary>The run ended: success waits (waiting) for the transaction's other jobs.</summary>
    internal void MarkRanToEnd(Exception? failure, bool waiting)
    {
        lock (_lock)
        {
            RanToEnd = true;
            RunFailure = failure;
            Busy = false;
            if (waiting)
                Transition(JobStatus.Waiting);
        }
    }

    /// <summary>Every job of the transaction succeeded: pending (BLOCK_JOB_PENDING without auto-finalize).</summary>
    internal void MarkPending()
    {
        lock (_lock)
        {
            Transition(JobStatus.Pending);
            if (!AutoFinalize)
                Registry.RaisePending(this);
        }
    }

    /// <summary>Another job of the transaction failed: this one is force-cancelled (a pause is lifted first).</summary>
    internal void ForceCancel()
    {
        lock (_lock)
            UserPaused = false;
        // Cancelled before it is woken, as job-cancel does.
        _cancel.Cancel();
        lock (_lock)
        {
            if (_isPaused)
                ExitPausedLocked();
            _resume?.TrySetResult();
        }
    }

    /// <summary>Makes the graph changes of a pending job of a transaction (commit, BLOCK_JOB_COMPLETED, concluded).</summary>
    internal Task FinalizeInTransactionAsync() => FinalizePendingAsync(CancellationToken.None);

    /// <summary>Aborts a job of a failed transaction: the failing one reports its error, the others were cancelled.</summary>
    internal async Task AbortInTransactionAsync(Exception? failure)
    {
        lock (_lock)
        {
            if (_finalizing || Status is JobStatus.Concluded or JobStatus.Null)
                return;
            _finalizing = true;
        }
        await FailAsync(failure, failure is null, CancellationToken.None).ConfigureAwait(false);
    }
}
