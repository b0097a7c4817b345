using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>blockdev-mirror's refusals (QEMU 7.2's texts) and on-target-error with a target whose writes fail.</summary>
public sealed class MirrorJobErrorTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private WriteErrorNode _faulty = null!;

    public async Task InitializeAsync()
    {
        var src = _dir.PathOf("src.raw");
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "raw", src, "4M");
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "raw", "-c", "write -P 0x11 0 4M", src);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", _dir.PathOf("tgt.qcow2"), "4M");
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", _dir.PathOf("small.qcow2"), "2M");
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", _dir.PathOf("ro.qcow2"), "4M");
        await _graph.AddAsync(new RawBlockdevOptions { NodeName = "src", File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = src }) });
        var tgt = await _graph.AddAsync(Qcow2("tgt", "tgt.qcow2"));
        await _graph.AddAsync(Qcow2("small", "small.qcow2"));
        await _graph.AddAsync(Qcow2("ro", "ro.qcow2") with { ReadOnly = true });
        _faulty = GraphInjection.Add(_graph, new WriteErrorNode(tgt), "faulty", tgt);
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Theory]
    [InlineData("nope", "tgt", 0L, 0L, null, "Cannot find device='nope' nor node-name='nope'")]
    [InlineData("src", "nope", 0L, 0L, null, "Cannot find device='nope' nor node-name='nope'")]
    [InlineData("src", "src", 0L, 0L, null, "Can't mirror node into itself")]
    [InlineData("src", "tgt", 3000L, 0L, null, "Parameter 'granularity' expects a power of 2")]
    [InlineData("src", "tgt", 256L, 0L, null, "Parameter 'granularity' expects a value in range [512B, 64MB]")]
    [InlineData("src", "tgt", 128L << 20, 0L, null, "Parameter 'granularity' expects a value in range [512B, 64MB]")]
    [InlineData("src", "tgt", 0L, -1L, null, "Invalid parameter 'buf-size'")]
    [InlineData("src", "tgt", 0L, 0L, "nope", "Failed to find node with node-name='nope'")]
    [InlineData("src", "tgt", 0L, 0L, "tgt", "Cannot replace 'tgt' by a node mirrored from 'src', because it cannot be guaranteed that doing so would not lead to an abrupt change of visible data")]
    [InlineData("src", "ro", 0L, 0L, null, "Block node is read-only")]
    public async Task Bad_arguments_are_refused_with_QEMUs_text_and_start_nothing(string device, string target, long granularity, long bufSize, string? replaces, string expected)
    {
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => MirrorJob.StartAsync(_graph, new MirrorJobOptions
        {
            JobId = "m0", Device = device, Target = target, Granularity = granularity, BufSize = bufSize, Replaces = replaces,
        }));
        Assert.Equal(expected, e.Message);
        Assert.Empty(_graph.Jobs.Jobs);
        Assert.False(_graph.FindNode("src")!.HasWriteNotifiers);
    }

    [Fact]
    public async Task Unsupported_sync_and_negative_speed_are_refused_as_QEMU_does()
    {
        var sync = await Assert.ThrowsAsync<BlockGraphException>(() => MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", UnsupportedSync = "bitmap" }));
        Assert.Equal("Sync mode 'bitmap' not supported", sync.Message);
        var log = new JobEventLog(_graph.Jobs);
        var speed = await Assert.ThrowsAsync<BlockGraphException>(() => MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "tgt", Job = new JobOptions { Speed = -1 } }));
        Assert.Equal("Parameter 'speed' expects a non-negative value", speed.Message);
        Assert.Equal(["created", "null"], log.Take());
        var id = await Assert.ThrowsAsync<JobException>(() => MirrorJob.StartAsync(_graph, new MirrorJobOptions { Device = "src", Target = "tgt" }));
        Assert.Equal("Invalid job ID ''", id.Message);
    }

    [Fact]
    public async Task A_target_of_another_size_fails_the_job_as_QEMU_does()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "small" });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["created", "running", "aborting", "BLOCK_JOB_COMPLETED(Source and target image have different sizes)", "concluded", "null"], log.Take());
    }

    [Fact]
    public async Task On_target_error_report_fails_the_job()
    {
        _faulty.FailWrites = true;
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "faulty" });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        var events = log.Take();
        Assert.Equal(["created", "running", "BLOCK_JOB_ERROR(write,report)"], events.Take(3));
        Assert.Equal(["aborting", "BLOCK_JOB_COMPLETED(Input/output error)", "concluded", "null"], events.TakeLast(4));
    }

    [Fact]
    public async Task On_target_error_stop_pauses_until_resume_then_the_job_goes_ready()
    {
        _faulty.FailWrites = true;
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "faulty", OnTargetError = JobOnError.Stop });
        await log.WaitForAsync("paused");
        Assert.True(job.IoFailed);
        Assert.Equal(JobStatus.Paused, job.Status);

        _faulty.FailWrites = false;
        job.Resume();
        await log.WaitForAsync("BLOCK_JOB_READY");
        await job.CancelAsync(force: false);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(job.Error);
        var events = log.Take();
        Assert.Equal(["created", "running", "BLOCK_JOB_ERROR(write,stop)"], events.Take(3));
        Assert.Equal(["ready", "BLOCK_JOB_READY", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], events.TakeLast(7));
    }

    [Fact]
    public async Task On_target_error_ignore_retries_the_range_until_it_succeeds()
    {
        _faulty.FailWrites = true;
        var log = new JobEventLog(_graph.Jobs);
        var job = await MirrorJob.StartAsync(_graph, new MirrorJobOptions { JobId = "m0", Device = "src", Target = "faulty", OnTargetError = JobOnError.Ignore });
        await log.WaitForAsync("BLOCK_JOB_ERROR(write,ignore)");
        Assert.Equal(JobStatus.Running, job.Status);
        _faulty.FailWrites = false;
        await log.WaitForAsync("BLOCK_JOB_READY");
        Assert.Equal(4 << 20, job.CurrentProgress);
        await job.CancelAsync(force: false);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(job.Error);
    }

    private Qcow2BlockdevOptions Qcow2(string name, string file) =>
        new() { NodeName = name, File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _dir.PathOf(file) }) };
}
