using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>block-stream's on-error policies with a backing node whose reads fail.</summary>
public sealed class StreamJobErrorTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private BlockNode _top = null!;
    private ReadErrorNode _faulty = null!;

    public async Task InitializeAsync()
    {
        var mid = _dir.PathOf("mid.qcow2");
        var top = _dir.PathOf("top.qcow2");
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", mid, "4M");
        await Tool(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x22 1M 1M", mid);
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", mid, "-F", "qcow2", top);
        _top = await _graph.AddAsync(new Qcow2BlockdevOptions { NodeName = "top", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = top }) });
        // The failing filter goes between the top and its backing node.
        var backing = _top.Backing!;
        _faulty = GraphInjection.Add(_graph, new ReadErrorNode(backing), "faulty");
        _faulty.AddChild("file", backing);
        _top.ReplaceChild("backing", _faulty);
        _faulty.FailReads = true;
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task On_error_stop_pauses_the_job_until_resume_then_it_completes()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await StreamJob.StartAsync(_graph, new StreamJobOptions { JobId = "s0", Device = "top", Job = new JobOptions { OnError = JobOnError.Stop } });
        await log.WaitForAsync("paused");
        Assert.True(job.IoFailed);
        Assert.True(job.UserPaused);

        _faulty.FailReads = false;
        job.Resume();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "BLOCK_JOB_ERROR(read,stop)", "paused", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        Assert.Null(job.Error);
        Assert.Null(_top.Backing);
    }

    [Fact]
    public async Task On_error_report_fails_the_job_and_keeps_the_chain()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await StreamJob.StartAsync(_graph, new StreamJobOptions { JobId = "s0", Device = "top" });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "BLOCK_JOB_ERROR(read,report)", "aborting", "BLOCK_JOB_COMPLETED(Input/output error)", "concluded", "null"], log.Take());
        Assert.Same(_faulty, _top.Backing);
    }

    [Fact]
    public async Task On_error_ignore_goes_on_and_completes_with_the_error()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await StreamJob.StartAsync(_graph, new StreamJobOptions { JobId = "s0", Device = "top", Job = new JobOptions { OnError = JobOnError.Ignore } });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        var events = log.Take();
        Assert.Contains("BLOCK_JOB_ERROR(read,ignore)", events);
        Assert.Equal(["aborting", "BLOCK_JOB_COMPLETED(Input/output error)", "concluded", "null"], events.TakeLast(4));
        Assert.Equal(4 << 20, job.CurrentProgress);
    }

    private static async Task Tool(string tool, params string[] arguments)
    {
        var (exit, output) = await QemuTools.RunAsync(tool, arguments);
        Assert.True(exit == 0, $"{tool} {string.Join(' ', arguments)}: {output}");
    }
}
