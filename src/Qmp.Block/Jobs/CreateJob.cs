namespace Qmp.Block.Jobs;

/// <summary>
/// blockdev-create (job type "create"): formats a new <c>file</c> or <c>qcow2</c> image as QEMU 7.2's
/// blockdev-create does, byte for byte. Not a block job (no BLOCK_JOB_* events, not in query-block-jobs);
/// finalized automatically but kept concluded until job-dismiss, with any failure in its <see cref="Job.Error"/>.
/// </summary>
/// <remarks>
/// QEMU runs the creation synchronously up to its first I/O, so argument errors conclude the job before the
/// command's reply; <see cref="StartAsync"/> waits for that point too.
/// </remarks>
public sealed partial class CreateJob : Job
{
    private readonly BlockGraph _graph;
    private readonly CreateJobOptions _options;
    private readonly TaskCompletionSource _checked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CreateJob(BlockGraph graph, string id, CreateJobOptions options)
        : base(graph.Jobs, id, new JobOptions { AutoDismiss = false })
    {
        _graph = graph;
        _options = options;
    }

    /// <inheritdoc/>
    public override string Type => "create";

    /// <inheritdoc/>
    public override bool IsBlockJob => false;

    /// <summary>
    /// Starts the job (created and running are emitted before this returns) and waits until it has checked
    /// its options and begun writing, or has concluded.
    /// </summary>
    public static async Task<CreateJob> StartAsync(BlockGraph graph, string jobId, CreateJobOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        graph.Jobs.CheckNewId(jobId);
        var job = new CreateJob(graph, jobId, options);
        graph.Jobs.Start(job);
        await Task.WhenAny(job._checked.Task, job.Completion).WaitAsync(cancellationToken).ConfigureAwait(false);
        return job;
    }

    /// <inheritdoc/>
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        // QEMU counts the creation as one unit of progress, done even when it failed.
        SetTotal(1);
        try
        {
            switch (_options)
            {
                case CreateJobFileOptions file:
                    await CreateFileAsync(file, cancellationToken).ConfigureAwait(false);
                    break;
                case CreateJobQcow2Options qcow2:
                    await CreateQcow2Async(qcow2, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw new BlockException(BlockError.NotSupported, "Driver does not support blockdev-create");
            }
        }
        finally
        {
            // A failure before Checked() reaches StartAsync through Completion, after aborting and concluded.
            AddProgress(1);
        }
    }

    // The options passed QEMU's checks: from here on failures are reported after the command's reply.
    private void Checked() => _checked.TrySetResult();
}
