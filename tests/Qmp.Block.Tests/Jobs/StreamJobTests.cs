using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>block-stream on real images made by qemu-img/qemu-io: the result checked with qemu-img compare, check and info.</summary>
public sealed class StreamJobTests : IAsyncLifetime
{
    private const int Mib = 1 << 20;
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private string _base = "", _mid = "", _top = "", _expected = "";

    public async Task InitializeAsync()
    {
        // base.raw 0x11 everywhere, mid 0x22 at 1M..2M, top 0x33 at 1.5M..2.5M: 8 MiB.
        _base = _dir.PathOf("base.raw");
        _mid = _dir.PathOf("mid.qcow2");
        _top = _dir.PathOf("top.qcow2");
        _expected = _dir.PathOf("expected.raw");
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "raw", _base, "8M");
        await Tool(QemuTools.QemuIo, "-f", "raw", "-c", "write -P 0x11 0 8M", _base);
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", _base, "-F", "raw", _mid);
        await Tool(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x22 1M 1M", _mid);
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", _mid, "-F", "qcow2", _top);
        await Tool(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x33 1536K 1M", _top);
        await Tool(QemuTools.QemuImg, "convert", "-f", "qcow2", "-O", "raw", _top, _expected);
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Stream_down_to_a_base_copies_the_intermediate_data_and_repoints_the_backing_file()
    {
        var top = await _graph.AddAsync(Options("top", _top));
        var log = new JobEventLog(_graph.Jobs);

        var job = await StreamJob.StartAsync(_graph, new StreamJobOptions { JobId = "s0", Device = "top", Base = _base });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        Assert.Null(job.Error);
        Assert.Equal(8 * Mib, job.CurrentProgress);
        Assert.Equal(_base, top.Backing!.Filename);
        Assert.DoesNotContain(_graph.Nodes, n => n.Filename == _mid);
        await _graph.DeleteAsync("top");
        await CheckImageAsync(_base);
    }

    [Fact]
    public async Task Stream_of_the_whole_chain_leaves_no_backing_file()
    {
        var top = await _graph.AddAsync(Options("top", _top));
        var job = await StreamJob.StartAsync(_graph, new StreamJobOptions { JobId = "s0", Device = "top" });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(job.Error);
        Assert.Null(top.Backing);
        Assert.Single(_graph.Nodes, n => n.DriverName == "qcow2");
        await _graph.DeleteAsync("top");
        await CheckImageAsync(null);
    }

    [Fact]
    public async Task Paused_throttled_job_refuses_blockdev_del_resumes_and_completes_and_drain_pauses_it()
    {
        var top = await _graph.AddAsync(Options("top", _top));
        var log = new JobEventLog(_graph.Jobs);
        // 64 KiB/s: the job copies its first chunk and then sleeps.
        var job = await StreamJob.StartAsync(_graph, new StreamJobOptions { JobId = "s0", Device = "top", Base = _base, Job = new JobOptions { Speed = 65536 } });

        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.DeleteAsync("top"));
        Assert.Equal("Node 'top' is busy: block device is in use by block job: stream", e.Message);

        using (await DrainedSection.BeginAsync(top))
        {
            await log.WaitForAsync("paused");
            Assert.Equal(0, job.InFlightForTests);
        }
        while (job.Status != JobStatus.Running)
            await Task.Delay(1);
        await job.PauseAsync();
        await Task.Delay(200);
        Assert.Equal(JobStatus.Paused, job.Status);
        job.SetSpeed(0);
        job.Resume();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["created", "running", "paused", "running", "paused", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        await _graph.DeleteAsync("top");
        await CheckImageAsync(_base);
    }

    // QEMU re-enters a sleeping job at once, so job-pause/job-resume's events precede their replies.
    [Fact]
    public async Task Pause_and_resume_of_a_sleeping_job_change_its_status_before_returning()
    {
        await _graph.AddAsync(Options("top", _top));
        var log = new JobEventLog(_graph.Jobs);
        var job = await StreamJob.StartAsync(_graph, new StreamJobOptions { JobId = "s0", Device = "top", Job = new JobOptions { Speed = 1 } });
        while (job.Busy || job.CurrentProgress == 0)
            await Task.Delay(1);

        await job.PauseAsync();
        Assert.Equal(JobStatus.Paused, job.Status);
        Assert.Equal("Job is already paused", (await Assert.ThrowsAsync<JobException>(() => job.PauseAsync())).Message);
        job.Resume();
        Assert.Equal(JobStatus.Running, job.Status);
        await job.PauseAsync();
        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "paused", "running", "paused", "running", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null"], log.Take());
        // The resume ended the throttling sleep, so one more chunk went through (as in QEMU 7.2).
        Assert.Equal(1048576, job.CurrentProgress);
    }

    [Fact]
    public async Task Cancel_keeps_the_backing_chain()
    {
        var top = await _graph.AddAsync(Options("top", _top));
        var log = new JobEventLog(_graph.Jobs);
        var job = await StreamJob.StartAsync(_graph, new StreamJobOptions { JobId = "s0", Device = "top", Base = _base, Job = new JobOptions { Speed = 1 } });
        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null"], log.Take());
        Assert.Equal(_mid, top.Backing!.Filename);
        await _graph.DeleteAsync("top");
        var (_, info) = await QemuTools.RunAsync(QemuTools.QemuImg, "info", "-U", _top);
        Assert.Contains($"backing file: {_mid}", info, StringComparison.Ordinal);
        await Tool(QemuTools.QemuImg, "compare", "-f", "raw", "-F", "qcow2", _expected, _top);
    }

    [Fact]
    public async Task Guest_writes_during_the_stream_are_kept()
    {
        var top = await _graph.AddAsync(Options("top", _top));
        var job = await StreamJob.StartAsync(_graph, new StreamJobOptions { JobId = "s0", Device = "top", Base = _base, Job = new JobOptions { Speed = 4 * Mib } });
        var expected = await System.IO.File.ReadAllBytesAsync(_expected);
        var random = new Random(7);
        while (!job.Completion.IsCompleted)
        {
            var offset = random.Next(0, 8 * 16) * 65536L;
            var data = new byte[65536];
            random.NextBytes(data);
            await top.WriteAsync(offset, data);
            data.CopyTo(expected, offset);
            await Task.Delay(5);
        }
        Assert.Null(job.Error);
        await System.IO.File.WriteAllBytesAsync(_expected, expected);
        await _graph.DeleteAsync("top");
        await CheckImageAsync(_base);
    }

    [Fact]
    public async Task Argument_errors_are_QEMUs()
    {
        await _graph.AddAsync(Options("top", _top));
        async Task<string> Error(StreamJobOptions options) =>
            (await Assert.ThrowsAnyAsync<Exception>(() => StreamJob.StartAsync(_graph, options))).Message;

        Assert.Equal("Invalid job ID ''", await Error(new() { Device = "top" }));
        Assert.Equal("Cannot find device='nodev' nor node-name='nodev'", await Error(new() { JobId = "j", Device = "nodev" }));
        Assert.Equal("Can't find 'x.raw' in the backing chain", await Error(new() { JobId = "j", Device = "top", Base = "x.raw" }));
        Assert.Equal("Node 'top' is not a backing image of 'top'", await Error(new() { JobId = "j", Device = "top", BaseNode = "top" }));
        Assert.Equal("backing file specified, but streaming the entire chain", await Error(new() { JobId = "j", Device = "top", BackingFile = "x" }));
        Assert.Equal("Invalid job ID '1j'", await Error(new() { JobId = "1j", Device = "top" }));
        Assert.Empty(_graph.Jobs.Jobs);
    }

    // The top now holds what the chain showed, qemu-img check is clean and the header names the new backing file.
    private async Task CheckImageAsync(string? backing)
    {
        await Tool(QemuTools.QemuImg, "compare", "-f", "raw", "-F", "qcow2", _expected, _top);
        await Tool(QemuTools.QemuImg, "check", _top);
        var (_, info) = await QemuTools.RunAsync(QemuTools.QemuImg, "info", _top);
        if (backing is null)
            Assert.DoesNotContain("backing file", info, StringComparison.Ordinal);
        else
        {
            Assert.Contains($"backing file: {backing}", info, StringComparison.Ordinal);
            Assert.Contains("backing file format: raw", info, StringComparison.Ordinal);
        }
    }

    private static Qcow2BlockdevOptions Options(string name, string path) =>
        new() { NodeName = name, File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }) };

    private static async Task Tool(string tool, params string[] arguments)
    {
        var (exit, output) = await QemuTools.RunAsync(tool, arguments);
        Assert.True(exit == 0, $"{tool} {string.Join(' ', arguments)}: {output}");
    }
}
