using Qmp.Block.Jobs;
using Qmp.Schema;

namespace Qmp.Commands.Block;

/// <summary>
/// block-jobs.json: the job-* and block-job-* commands, query-jobs, query-block-jobs and block-stream over
/// the graph's job registry. These run off the machine thread; jobs work on the thread pool.
/// </summary>
public sealed class JobCommands(Machine.Machine machine) : IBlockJobsCommands
{
    private JobRegistry Jobs => machine.Block.Jobs;

    /// <inheritdoc/>
    public ValueTask JobPauseAsync(JobPauseArguments arguments, CancellationToken cancellationToken) =>
        RunAsync(() => Jobs.Find(arguments.Id).PauseAsync(cancellationToken));

    /// <inheritdoc/>
    public ValueTask JobResumeAsync(JobResumeArguments arguments, CancellationToken cancellationToken) =>
        Run(() => Jobs.Find(arguments.Id).Resume());

    /// <inheritdoc/>
    public ValueTask JobCancelAsync(JobCancelArguments arguments, CancellationToken cancellationToken) =>
        RunAsync(() => Jobs.Find(arguments.Id).CancelAsync(cancellationToken));

    /// <inheritdoc/>
    public ValueTask JobCompleteAsync(JobCompleteArguments arguments, CancellationToken cancellationToken) =>
        Run(() => Jobs.Find(arguments.Id).Complete());

    /// <inheritdoc/>
    public ValueTask JobDismissAsync(JobDismissArguments arguments, CancellationToken cancellationToken) =>
        Run(() => Jobs.Find(arguments.Id).Dismiss());

    /// <inheritdoc/>
    public ValueTask JobFinalizeAsync(JobFinalizeArguments arguments, CancellationToken cancellationToken) =>
        RunAsync(() => Jobs.Find(arguments.Id).FinalizeAsync(cancellationToken));

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<JobInfo>> QueryJobsAsync(CancellationToken cancellationToken)
    {
        // QEMU lists the newest job first.
        IReadOnlyList<JobInfo> list = Jobs.Jobs.Reverse().Where(Listed).Select(j => new JobInfo
        {
            Id = j.Id,
            Type = JobMapping.Type(j),
            Status = JobMapping.Status(j.Status),
            CurrentProgress = j.CurrentProgress,
            TotalProgress = j.TotalProgress,
            Error = j.Error,
        }).ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BlockJobInfo>> QueryBlockJobsAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<BlockJobInfo> list = Jobs.Jobs.Reverse().Where(j => j.IsBlockJob && Listed(j)).Select(j => new BlockJobInfo
        {
            Type = j.Type,
            Device = j.Id,
            Len = j.TotalProgress,
            Offset = j.CurrentProgress,
            Busy = j.Busy,
            Paused = j.Paused,
            Speed = j.Speed,
            IoStatus = j.IoFailed ? BlockDeviceIoStatus.Failed : BlockDeviceIoStatus.Ok,
            Ready = j.Status is Qmp.Block.Jobs.JobStatus.Ready or Qmp.Block.Jobs.JobStatus.Standby,
            Status = JobMapping.Status(j.Status),
            AutoFinalize = j.AutoFinalize,
            AutoDismiss = j.AutoDismiss,
            Error = j.Error,
        }).ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask BlockStreamAsync(BlockStreamArguments arguments, CancellationToken cancellationToken) =>
        RunAsync(() => StreamJob.StartAsync(machine.Block, new StreamJobOptions
        {
            JobId = arguments.JobId,
            Device = arguments.Device,
            Base = arguments.Base,
            BaseNode = arguments.BaseNode,
            Bottom = arguments.Bottom,
            BackingFile = arguments.BackingFile,
            FilterNodeName = arguments.FilterNodeName,
            Job = JobMapping.Options(arguments.Speed, arguments.OnError, arguments.AutoFinalize, arguments.AutoDismiss),
        }, cancellationToken));

    /// <inheritdoc/>
    public ValueTask BlockJobSetSpeedAsync(BlockJobSetSpeedArguments arguments, CancellationToken cancellationToken) =>
        Run(() => Jobs.FindBlockJob(arguments.Device).SetSpeed(arguments.Speed));

    /// <inheritdoc/>
    public ValueTask BlockJobCancelAsync(BlockJobCancelArguments arguments, CancellationToken cancellationToken) => RunAsync(() =>
    {
        var job = Jobs.FindBlockJob(arguments.Device);
        // QEMU refuses a plain cancel of a user-paused block job; force cancels it anyway.
        if (job.UserPaused && arguments.Force != true)
            throw new JobException($"The block job for device '{arguments.Device}' is currently paused");
        return job.CancelAsync(arguments.Force == true, cancellationToken);
    });

    /// <inheritdoc/>
    public ValueTask BlockJobPauseAsync(BlockJobPauseArguments arguments, CancellationToken cancellationToken) =>
        RunAsync(() => Jobs.FindBlockJob(arguments.Device).PauseAsync(cancellationToken));

    /// <inheritdoc/>
    public ValueTask BlockJobResumeAsync(BlockJobResumeArguments arguments, CancellationToken cancellationToken) =>
        Run(() => Jobs.FindBlockJob(arguments.Device).Resume());

    /// <inheritdoc/>
    public ValueTask BlockJobCompleteAsync(BlockJobCompleteArguments arguments, CancellationToken cancellationToken) =>
        Run(() => Jobs.FindBlockJob(arguments.Device).Complete());

    /// <inheritdoc/>
    public ValueTask BlockJobDismissAsync(BlockJobDismissArguments arguments, CancellationToken cancellationToken) =>
        Run(() => Jobs.FindBlockJob(arguments.Id).Dismiss());

    /// <inheritdoc/>
    public ValueTask BlockJobFinalizeAsync(BlockJobFinalizeArguments arguments, CancellationToken cancellationToken) =>
        RunAsync(() => Jobs.FindBlockJob(arguments.Id).FinalizeAsync(cancellationToken));

    // A job that went null while the list was read is gone already; QEMU never lists one.
    private static bool Listed(Job job) => job.Status != Qmp.Block.Jobs.JobStatus.Null;

    private static ValueTask Run(Action operation) => RunAsync(() =>
    {
        operation();
        return Task.CompletedTask;
    });

    private static ValueTask RunAsync(Func<Task> operation) => BlockErrors.RunAsync(operation);
}
