using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>block-commit's on-error policies, with a committed node whose reads fail (a filter between the overlay and the middle image).</summary>
public sealed class CommitJobErrorTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private BlockNode _top = null!;
    private BlockNode _base = null!;
    private ReadErrorNode _faulty = null!;
    private string _basePath = "";

    public async Task InitializeAsync()
    {
        _basePath = _dir.PathOf("base.raw");
        var mid = _dir.PathOf("mid.qcow2");
        var top = _dir.PathOf("top.qcow2");
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "raw", _basePath, "1M");
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", _basePath, "-F", "raw", mid);
        await Tool(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x22 0 1M", mid);
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", mid, "-F", "qcow2", top);
        _top = await _graph.AddAsync(new Qcow2BlockdevOptions { NodeName = "top", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = top }) });
        var midNode = _top.Backing!;
        _base = midNode.Backing!;
        // The failing node is committed too: everything reads as allocated in it, so every chunk is copied through it.
        _faulty = GraphInjection.Add(_graph, new ReadErrorNode(midNode), "faulty");
        _faulty.AddChild("backing", midNode);
        _top.ReplaceChild("backing", _faulty);
        _faulty.FailReads = true;
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Commit_on_error_ignore_retries_the_request_and_completes_without_error()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c0", Device = "top", TopNode = "faulty", Job = new JobOptions { OnError = JobOnError.Ignore } });
        await log.WaitForAsync("BLOCK_JOB_ERROR(read,ignore)");
        _faulty.FailReads = false;
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(job.Error);
        Assert.Equal("BLOCK_JOB_COMPLETED", log.Events.Single(e => e.StartsWith("BLOCK_JOB_COMPLETED", StringComparison.Ordinal)));
        Assert.Same(_base, _top.Backing);
        var (_, read) = await QemuTools.RunAsync(QemuTools.QemuIo, "-f", "raw", "-c", "read -P 0x22 0 1M", _basePath);
        Assert.DoesNotContain("failed", read, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commit_on_error_report_fails_and_keeps_the_chain_with_the_base_read_only_again()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c0", Device = "top", TopNode = "faulty" });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.NotNull(job.Error);
        Assert.Equal(["created", "running", "BLOCK_JOB_ERROR(read,report)", "aborting", $"BLOCK_JOB_COMPLETED({job.Error})", "concluded", "null"], log.Take());
        Assert.Same(_faulty, _top.Backing);
        Assert.True(_base.ReadOnly);
    }

    private static async Task Tool(string tool, params string[] arguments)
    {
        var (exit, output) = await QemuTools.RunAsync(tool, arguments);
        Assert.True(exit == 0, $"{tool} {string.Join(' ', arguments)}: {output}");
    }
}
