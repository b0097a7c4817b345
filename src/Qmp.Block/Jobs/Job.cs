namespace Qmp.Block.Jobs;

/// <summary>
/// A background job (QEMU's Job + BlockJob): a state machine with QEMU's transition and verb tables,
/// a run method on the thread pool that yields at pause points, user and drain pauses counted apart,
/// a rate limit, progress, and the completion paths (finalize: commit or abort the job's graph changes).
/// A job is a user of the nodes it works on, so drained sections pause it and blockdev-del refuses them.
/// </summary>
public abstract partial class Job : IBlockParent
{
    private static readonly AsyncLocal<Job?> s_drainOwner = new();
    private readonly object _lock = new();
    private readonly CancellationTokenSource _cancel = new();
    private readonly RateLimiter _limiter = new();
    private readonly List<BlockNode> _nodes = [];
    private TaskCompletionSource? _resume;
    private Task _run = Task.CompletedTask;
    private int _drainPauses;
    private bool _isPaused;
    private bool _finalizing;
    private volatile bool _reentered;
    private TaskCompletionSource _kick = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _transitioned;
    private JobStatus _resumeTo;
    private int _inFlight;
    private int _ownDrains;
    private volatile bool _runReturned;
    private long _current;
    private long _total;

    /// <summary>Creates a job in <see cref="JobStatus.Undefined"/>; the registry creates and starts it.</summary>
    protected Job(JobRegistry registry, string id, JobOptions options)
    {
        Registry = registry;
        Id = id;
        AutoFinalize = options.AutoFinalize;
        AutoDismiss = options.AutoDismiss;
        OnError = options.OnError;
        _limiter.Speed = options.Speed;
    }

    /// <summary>The job's id (job-id; block-job-* call it device).</summary>
    public string Id { get; }

    /// <summary>The QAPI JobType name ("stream").</summary>
    public abstract string Type { get; }

    /// <summary>The registry the job belongs to.</summary>
    protected JobRegistry Registry { get; }

    /// <summary>The job's state.</summary>
    public JobStatus Status { get; private set; }

    /// <summary>Whether the job goes from pending to concluded by itself.</summary>
    public bool AutoFinalize { get; }

    /// <summary>Whether the job goes from concluded to null by itself.</summary>
    public bool AutoDismiss { get; }

    /// <summary>The error policy for the job's own requests.</summary>
    public JobOnError OnError { get; }

    /// <summary>The rate limit in bytes per second; 0 = unlimited.</summary>
    public long Speed => _limiter.Speed;

    /// <summary>Progress made (bytes processed).</summary>
    public long CurrentProgress => Interlocked.Read(ref _current);

    /// <summary>Expected progress at the end.</summary>
    public long TotalProgress => Interlocked.Read(ref _total);

    /// <summary>Why the job failed (null while it has not, or after success).</summary>
    public string? Error { get; private set; }

    /// <summary>Whether the user paused the job (job-pause; also on-error=stop).</summary>
    public bool UserPaused { get; private set; }

    /// <summary>Pauses in effect: the user's and the drained sections'.</summary>
    public int PauseCount => (UserPaused ? 1 : 0) + Volatile.Read(ref _drainPauses);

    /// <summary>
    /// QEMU's pause_count &gt; 0, as query-block-jobs reports it: <see cref="PauseCount"/>, and a drained section the job
    /// began itself and holds past the end of its run (a mirror's, until finalized), which QEMU counts as a pause of the
    /// job too though it never stops for it. The short ones a job takes while it works are qmpd's own and do not show.
    /// </summary>
    public bool Paused => PauseCount > 0 || (_runReturned && Volatile.Read(ref _ownDrains) > 0);

    /// <summary>Whether the job has work in flight (QEMU's busy: not sleeping at a pause point).</summary>
    public bool Busy { get; private set; }

    /// <summary>Whether cancel was requested.</summary>
    public bool CancelRequested => _cancel.IsCancellationRequested;

    /// <summary>Whether the job's last error left the I/O status failed (cleared by resume).</summary>
    public bool IoFailed { get; private set; }

    /// <summary>The job's own requests in flight (what DrainedPoll reports).</summary>
    internal int InFlightForTests => Volatile.Read(ref _inFlight);

    /// <summary>Whether an ignored request error still fails the job at its end (stream); false where the job retries the request (commit).</summary>
    protected virtual bool IgnoredErrorsFailJob => true;

    /// <summary>Whether the job is a block job (query-block-jobs, block-job-*, BLOCK_JOB_* events); blockdev-create's is not.</summary>
    public virtual bool IsBlockJob => true;

    /// <summary>Whether job-complete applies to the job's type (mirror, active commit).</summary>
    protected virtual bool CanComplete => false;

    /// <inheritdoc/>
    string IBlockParent.Description => $"block job '{Id}'";

    /// <summary>Completes when the job has reached concluded (or null).</summary>
    public Task Completion => _concluded.Task;

    private readonly TaskCompletionSource _concluded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The job's work; returns when done, throws to fail. Yields with <see cref="PausePointAsync"/>.</summary>
    protected abstract Task RunAsync(CancellationToken cancellationToken);

    /// <summary>Makes the job's graph changes after success (QEMU's .prepare/.commit); throwing fails the job.</summary>
    protected virtual Task CommitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Undoes what the job did after failure or cancel (QEMU's .abort).</summary>
    protected virtual Task AbortAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Records the nodes the job uses (they refuse blockdev-del and drain it).</summary>
    protected void Use(BlockNode node)
    {
        lock (_nodes)
        {
            if (_nodes.Contains(node))
                return;
            _nodes.Add(node);
        }
        node.AddUser(this);
    }

    /// <summary>Stops using <paramref name="node"/> (before the job closes or drops it).</summary>
    protected void Release(BlockNode node)
    {
        lock (_nodes)
            _nodes.Remove(node);
        node.RemoveUser(this);
    }

    /// <summary>Sets the expected total progress.</summary>
    protected void SetTotal(long total) => Interlocked.Exchange(ref _total, total);

    /// <summary>Adds progress.</summary>
    protected void AddProgress(long bytes) => Interlocked.Add(ref _current, bytes);

    // Moves the state machine; an illegal transition is a bug, never silently continued.
    private void Transition(JobStatus to)
    {
        lock (_lock)
        {
            if (!JobStateMachine.CanTransition(Status, to))
                throw new InvalidOperationException($"job '{Id}': illegal transition {Status} -> {to}");
            Status = to;
            // Emitted under the lock so every observer sees the job's changes in order, and before
            // waiters are released, so a command waiting for this change queues its reply after the event.
            Registry.RaiseStatusChanged(this, to);
            _transitioned?.TrySetResult();
            _transitioned = null;
        }
    }

    // QEMU's job_apply_verb.
    private void CheckVerb(JobVerb verb)
    {
        if (!JobStateMachine.Allows(verb, Status))
            throw new JobException(JobStateMachine.Refusal(Id, Status, verb));
    }
}
