using Qmp.Block.Jobs;

namespace Qmp.Block.Tests.Jobs;

/// <summary>
/// job-cancel of a paused job: the job is woken (running again, as QEMU's event says) already cancelled, so it cannot
/// take the wake-up for a resume and copy one more chunk (iotest 219's cancel of a paused mirror reports the paused offset).
/// </summary>
public sealed class JobCancelWakeTests
{
    [Theory]
    [InlineData(JobStatus.Paused)]
    [InlineData(JobStatus.Standby)]
    public async Task Paused_job_is_cancelled_before_it_is_woken(JobStatus pausedIn)
    {
        var registry = new JobRegistry();
        var log = new JobEventLog(registry);
        Job job = pausedIn == JobStatus.Paused
            ? new TestJob(registry, "j0", new JobOptions { Speed = 1 })
            : new IdleTestJob(registry, "j0", new JobOptions());
        bool? cancelledWhenWoken = null;
        registry.StatusChanged += (_, status) =>
        {
            if (status is JobStatus.Running or JobStatus.Ready && log.Events.Contains(JobStateMachine.Name(pausedIn)))
                cancelledWhenWoken ??= job.CancelRequested;
        };
        registry.Start(job);
        if (pausedIn == JobStatus.Standby)
            await log.WaitForAsync("BLOCK_JOB_READY");
        await job.PauseAsync();
        Assert.Equal(pausedIn, job.Status);
        var progress = job.CurrentProgress;

        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(cancelledWhenWoken);
        Assert.Equal(progress, job.CurrentProgress);
        Assert.Equal("BLOCK_JOB_CANCELLED", log.Events[^3]);
    }
}
