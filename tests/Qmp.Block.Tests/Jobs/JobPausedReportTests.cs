using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>
/// What query-block-jobs reports as paused (QEMU's pause_count &gt; 0) in the states iotest 219 walks: a mirror
/// keeps its source drained from the end of its run until finalized, and QEMU counts that drain as a pause.
/// </summary>
public sealed class JobPausedReportTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();

    public async Task InitializeAsync()
    {
        var src = _dir.PathOf("src.raw");
        var tgt = _dir.PathOf("tgt.qcow2");
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "raw", src, "1M");
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "raw", "-c", "write -P 0x11 0 1M", src);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", tgt, "1M");
        await _graph.AddAsync(new RawBlockdevOptions { NodeName = "src", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = src }) });
        await _graph.AddAsync(new Qcow2BlockdevOptions { NodeName = "tgt", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = tgt }) });
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Pending_mirror_reports_paused_until_finalized()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", Job = new JobOptions { AutoFinalize = false, AutoDismiss = false } });
        await log.WaitForAsync("BLOCK_JOB_READY");
        Assert.False(job.Paused);
        job.Complete();
        await log.WaitForAsync("BLOCK_JOB_PENDING");

        Assert.True(job.Paused);
        // Not a user pause: job-resume still refuses.
        Assert.False(job.UserPaused);
        Assert.Equal(0, job.PauseCount);
        Assert.Equal("Can't resume a job that was not paused", Assert.Throws<JobException>(job.Resume).Message);

        await job.FinalizeAsync();
        Assert.Equal(JobStatus.Concluded, job.Status);
        Assert.False(job.Paused);
        job.Dismiss();
    }

    [Fact]
    public async Task Soft_cancelled_pending_mirror_reports_paused_until_finalized()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", Job = new JobOptions { AutoFinalize = false } });
        await log.WaitForAsync("BLOCK_JOB_READY");
        await job.CancelAsync(force: false);
        await log.WaitForAsync("BLOCK_JOB_PENDING");

        Assert.True(job.Paused);
        await job.FinalizeAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(job.Paused);
    }

    [Fact]
    public async Task Pending_job_without_a_drain_of_its_own_is_not_paused()
    {
        var registry = new JobRegistry();
        var log = new JobEventLog(registry);
        var job = new TestJob(registry, "j0", new JobOptions { AutoFinalize = false });
        registry.Start(job);
        job.Finish();
        await log.WaitForAsync("BLOCK_JOB_PENDING");

        Assert.False(job.Paused);
        await job.FinalizeAsync();
        await job.Completion;
    }

    [Fact]
    public async Task User_pause_is_reported_while_running()
    {
        var registry = new JobRegistry();
        var log = new JobEventLog(registry);
        var job = new TestJob(registry, "j0", new JobOptions { Speed = 1 });
        registry.Start(job);
        Assert.False(job.Paused);
        await job.PauseAsync();
        await log.WaitForAsync("paused");

        Assert.True(job.Paused);
        job.Resume();
        Assert.False(job.Paused);
        await job.CancelAsync();
    }
}
