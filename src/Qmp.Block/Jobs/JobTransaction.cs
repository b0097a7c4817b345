namespace Qmp.Block.Jobs;

/// <summary>
/// Jobs that complete together (QEMU's JobTxn, the transaction command's completion-mode grouped): a job
/// whose work is done waits (waiting) until every job of the transaction is; then all go pending and are
/// finalized together, by themselves unless one of them has auto-finalize off, else by job-finalize of
/// any of them. If one fails or is cancelled, the others are cancelled and every job aborts.
/// </summary>
/// <remarks>QEMU keeps a transaction's jobs newest first; its events come in that order, so ours do too.</remarks>
public sealed class JobTransaction
{
    private readonly List<Job> _jobs = [];
    private bool _aborting;
    private bool _finalizing;

    /// <summary>The jobs, newest first.</summary>
    internal IReadOnlyList<Job> Jobs
    {
        get
        {
            lock (_jobs)
                return [.. _jobs];
        }
    }

    /// <summary>Completes when every job of the transaction has concluded (a cancel's reply waits for all of them, as in QEMU).</summary>
    internal Task Completion => Task.WhenAll(Jobs.Select(j => j.Completion));

    /// <summary>Adds <paramref name="job"/> (before it starts).</summary>
    public void Add(Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        lock (_jobs)
            _jobs.Insert(0, job);
        job.Transaction = this;
    }

    /// <summary>A job's run ended (with <paramref name="failure"/>, or cancelled, or done).</summary>
    internal async Task JobRanAsync(Job job, Exception? failure)
    {
        var succeeded = failure is null && !job.CancelRequested;
        bool abort = false, allDone = false;
        lock (_jobs)
        {
            job.MarkRanToEnd(failure, waiting: succeeded && !_aborting);
            if (!succeeded && !_aborting)
            {
                _aborting = true;
                abort = true;
            }
            else if (succeeded && !_aborting && _jobs.TrueForAll(j => j.RanToEnd && j.RunFailure is null && !j.CancelRequested))
            {
                allDone = true;
            }
        }
        if (abort)
            await AbortAllAsync().ConfigureAwait(false);
        else if (allDone)
            await AllDoneAsync().ConfigureAwait(false);
    }

    /// <summary>job-cancel of a job that waits for the others (waiting, pending): the whole transaction aborts.</summary>
    internal async Task AbortAsync()
    {
        lock (_jobs)
        {
            if (_aborting || _finalizing)
                return;
            _aborting = true;
        }
        await AbortAllAsync().ConfigureAwait(false);
    }

    /// <summary>job-finalize of any job: finalizes all of them, once all are pending.</summary>
    internal async Task FinalizeAllAsync()
    {
        lock (_jobs)
        {
            if (_finalizing || _aborting)
                return;
            _finalizing = true;
        }
        foreach (var job in Jobs)
            await job.FinalizeInTransactionAsync().ConfigureAwait(false);
    }

    private async Task AllDoneAsync()
    {
        var jobs = Jobs;
        foreach (var job in jobs)
            job.MarkPending();
        if (jobs.All(j => j.AutoFinalize))
            await FinalizeAllAsync().ConfigureAwait(false);
    }

    // QEMU's job_completed_txn_abort: force-cancel the others, wait until their runs ended, then abort each.
    private async Task AbortAllAsync()
    {
        var jobs = Jobs;
        foreach (var job in jobs)
        {
            if (!job.RanToEnd)
                job.ForceCancel();
        }
        foreach (var job in jobs)
        {
            // A job still running ends in JobRanAsync, which returns at once now that the transaction aborts.
            while (!job.RanToEnd && job.Status is not (JobStatus.Undefined or JobStatus.Created))
                await Task.WhenAny(job.RunTask, Task.Delay(10)).ConfigureAwait(false);
        }
        foreach (var job in jobs)
            await job.AbortInTransactionAsync(job.CancelRequested && job.RunFailure is null ? null : job.RunFailure).ConfigureAwait(false);
    }
}
