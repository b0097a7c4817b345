using Qmp.Block.Jobs;

namespace Qmp.Block.Tests.Jobs;

/// <summary>
/// A job's null event comes after it left the registry (QEMU does both at once): a client that saw the event and asks
/// query-jobs next must not find it (iotest 219's query after null).
/// </summary>
public sealed class JobVanishTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Null_event_comes_after_the_job_left_the_registry(bool autoDismiss)
    {
        var registry = new JobRegistry();
        var log = new JobEventLog(registry);
        bool? listedAtNull = null;
        registry.StatusChanged += (job, status) =>
        {
            if (status == JobStatus.Null)
                listedAtNull = registry.Jobs.Contains(job);
        };
        var job = new TestJob(registry, "j0", new JobOptions { AutoDismiss = autoDismiss });
        registry.Start(job);
        job.Finish();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        if (!autoDismiss)
        {
            Assert.Null(listedAtNull);
            Assert.Same(job, registry.Find("j0"));
            job.Dismiss();
        }

        Assert.False(listedAtNull);
        Assert.Equal(JobStatus.Null, job.Status);
        Assert.Equal("null", log.Events[^1]);
        Assert.Empty(registry.Jobs);
    }

    [Fact]
    public async Task Null_event_of_a_cancelled_job_comes_after_it_left_the_registry()
    {
        var registry = new JobRegistry();
        bool? listedAtNull = null;
        registry.StatusChanged += (job, status) =>
        {
            if (status == JobStatus.Null)
                listedAtNull = registry.Jobs.Contains(job);
        };
        var job = new TestJob(registry, "j0", new JobOptions { Speed = 1 });
        registry.Start(job);
        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(listedAtNull);
        Assert.Empty(registry.Jobs);
    }
}
