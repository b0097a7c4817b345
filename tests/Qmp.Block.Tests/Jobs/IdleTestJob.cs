using Qmp.Block.Jobs;

namespace Qmp.Block.Tests.Jobs;

/// <summary>A job that goes ready at once and then sleeps without work (as a converged mirror) until told to finish.</summary>
internal sealed class IdleTestJob(JobRegistry registry, string id, JobOptions options) : Job(registry, id, options)
{
    private readonly TaskCompletionSource _finish = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override string Type => "mirror";

    protected override bool CanComplete => true;

    /// <summary>When set, the job works (stays busy) each time it wakes until this completes, before its next pause point.</summary>
    public TaskCompletionSource? Work { get; set; }

    /// <summary>Completed when the job began the <see cref="Work"/>.</summary>
    public TaskCompletionSource WorkBegun { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override void CompleteRequestedLocked() => _finish.TrySetResult();

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        SetTotal(65536);
        AddProgress(65536);
        while (true)
        {
            if (Work is { } work)
            {
                WorkBegun.TrySetResult();
                await work.Task;
            }
            await PausePointAsync(cancellationToken);
            if (Status == JobStatus.Running)
                EnterReady();
            if (_finish.Task.IsCompleted)
                return;
            await IdleAsync(_finish.Task, cancellationToken);
        }
    }
}
