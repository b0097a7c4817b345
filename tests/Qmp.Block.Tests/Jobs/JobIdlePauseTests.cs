using Qmp.Block.Jobs;

namespace Qmp.Block.Tests.Jobs;

/// <summary>
/// job-pause of a job that is still busy after a resume and then goes to sleep without work (a ready mirror): the pause
/// is taken when the job goes idle, so the standby event comes before the reply (iotest 219's resume-then-pause in READY);
/// job-complete of a standby job.
/// </summary>
public sealed class JobIdlePauseTests
{
    [Fact]
    public async Task Pause_asked_while_a_resumed_job_is_busy_is_taken_when_it_goes_idle()
    {
        var registry = new JobRegistry();
        var log = new JobEventLog(registry);
        var job = new IdleTestJob(registry, "j0", new JobOptions());
        registry.Start(job);
        await log.WaitForAsync("BLOCK_JOB_READY");
        await job.PauseAsync();
        Assert.Equal(JobStatus.Standby, job.Status);

        var work = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        job.Work = work;
        job.Resume();
        // Busy (it passed the pause point it woke in, and works): the pause waits for the job's next pause point.
        await job.WorkBegun.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var pause = job.PauseAsync();
        Assert.False(pause.IsCompleted);
        work.SetResult();
        await pause;

        Assert.Equal(JobStatus.Standby, job.Status);
        Assert.Equal(["created", "running", "ready", "BLOCK_JOB_READY", "standby", "ready", "standby"], log.Take());
        job.Work = null;
        job.Resume();
        job.Complete();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Standby_job_completed_while_paused_finishes_on_resume()
    {
        var registry = new JobRegistry();
        var log = new JobEventLog(registry);
        var job = new IdleTestJob(registry, "j0", new JobOptions());
        registry.Start(job);
        await log.WaitForAsync("BLOCK_JOB_READY");
        await job.PauseAsync();

        // QEMU 7.2 accepts job-complete in standby (twice, too); the job acts on it once resumed.
        job.Complete();
        job.Complete();
        Assert.Equal(JobStatus.Standby, job.Status);
        job.Resume();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "ready", "BLOCK_JOB_READY", "standby", "ready", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
    }
}
