using Qmp.Block.Backends;

namespace Qmp.Block.Jobs;

/// <summary>
/// The jobs of one block graph (QEMU's global job list): unique ids, lookup with QEMU's errors for
/// job-* and block-job-* commands, and the events jobs raise. Events are raised on the thread that
/// moved the job, in the job's order.
/// </summary>
public sealed class JobRegistry
{
    private readonly List<Job> _jobs = [];

    /// <summary>A job changed status (JOB_STATUS_CHANGE).</summary>
    public event Action<Job, JobStatus>? StatusChanged;

    /// <summary>A job completed, successfully or with <see cref="Job.Error"/> (BLOCK_JOB_COMPLETED).</summary>
    public event Action<Job>? Completed;

    /// <summary>A job was cancelled (BLOCK_JOB_CANCELLED).</summary>
    public event Action<Job>? Cancelled;

    /// <summary>A job without auto-finalize waits for job-finalize (BLOCK_JOB_PENDING).</summary>
    public event Action<Job>? Pending;

    /// <summary>A job (mirror, active commit) may now be completed (BLOCK_JOB_READY).</summary>
    public event Action<Job>? Ready;

    /// <summary>A job's request failed: read or write, and what the policy did (BLOCK_JOB_ERROR).</summary>
    public event Action<Job, bool, BlockErrorAction>? Error;

    /// <summary>The jobs, in the order created.</summary>
    public IReadOnlyList<Job> Jobs
    {
        get
        {
            lock (_jobs)
                return [.. _jobs];
        }
    }

    /// <summary>The job for job-* commands, or QEMU's "Job not found".</summary>
    public Job Find(string id)
    {
        lock (_jobs)
            return _jobs.Find(j => j.Id == id) ?? throw new JobException("Job not found");
    }

    /// <summary>The job for block-job-* commands, or QEMU's DeviceNotActive "Block job 'X' not found".</summary>
    public Job FindBlockJob(string id)
    {
        lock (_jobs)
            return _jobs.Find(j => j.Id == id && j.IsBlockJob) ?? throw new JobException($"Block job '{id}' not found", deviceNotActive: true);
    }

    /// <summary>
    /// Why no job may start now (set by an outgoing migration, whose destination must see the disks as the
    /// guest left them), or null. Checked by <see cref="CheckNewId"/>, before a job creates anything.
    /// </summary>
    public string? StartBlocker { get; set; }

    /// <summary>Checks a new job's id as QEMU's job_create does, and refuses while <see cref="StartBlocker"/> is set.</summary>
    public void CheckNewId(string id)
    {
        if (StartBlocker is { } blocker)
            throw new JobException(blocker);
        if (!IdWellFormed(id))
            throw new JobException($"Invalid job ID '{id}'");
        lock (_jobs)
        {
            if (_jobs.Exists(j => j.Id == id))
                throw new JobException($"Job ID '{id}' already in use");
        }
    }

    /// <summary>Registers and starts <paramref name="job"/> (created, running).</summary>
    public void Start(Job job)
    {
        lock (_jobs)
        {
            if (_jobs.Exists(j => j.Id == job.Id))
                throw new JobException($"Job ID '{job.Id}' already in use");
            _jobs.Add(job);
        }
        job.Start();
    }

    /// <summary>Cancels every job and waits for them to conclude (quit, graph disposal).</summary>
    public async Task CancelAllAsync()
    {
        foreach (var job in Jobs)
            await job.CancelAndWaitAsync().ConfigureAwait(false);
    }

    internal void Remove(Job job)
    {
        lock (_jobs)
            _jobs.Remove(job);
    }

    internal void RaiseStatusChanged(Job job, JobStatus status) => StatusChanged?.Invoke(job, status);

    internal void RaiseCompleted(Job job) => Completed?.Invoke(job);

    internal void RaiseCancelled(Job job) => Cancelled?.Invoke(job);

    internal void RaisePending(Job job) => Pending?.Invoke(job);

    internal void RaiseReady(Job job) => Ready?.Invoke(job);

    internal void RaiseError(Job job, bool isRead, BlockErrorAction action) => Error?.Invoke(job, isRead, action);

    // QEMU's id_wellformed: a letter, then letters, digits, '-', '.', '_'.
    private static bool IdWellFormed(string id) =>
        id.Length > 0 && char.IsAsciiLetter(id[0]) && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');
}
