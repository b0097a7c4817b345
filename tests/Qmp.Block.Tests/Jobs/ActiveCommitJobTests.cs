using Qmp.Block.Backends;
using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>Active block-commit on the mirror machinery: READY, pivot onto the base, cancel after READY keeping the overlay.</summary>
public sealed class ActiveCommitJobTests : IAsyncLifetime
{
    private const int Mib = 1 << 20;
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private string _base = "", _mid = "", _top = "", _expected = "";
    private BlockBackend _drive = null!;

    public async Task InitializeAsync()
    {
        // base.qcow2 0x11 everywhere, mid 0x22 at 1M..2M, top 0x33 at 1.5M..2.5M: 4 MiB, as drive0.
        _base = _dir.PathOf("base.qcow2");
        _mid = _dir.PathOf("mid.qcow2");
        _top = _dir.PathOf("top.qcow2");
        _expected = _dir.PathOf("expected.raw");
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", _base, "4M");
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x11 0 4M", _base);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", _base, "-F", "qcow2", _mid);
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x22 1M 1M", _mid);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", _mid, "-F", "qcow2", _top);
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x33 1536K 1M", _top);
        _drive = await _graph.AddDriveAsync("drive0", new Qcow2BlockdevOptions { File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _top }) });
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Active_commit_goes_ready_and_complete_pivots_the_drive_onto_the_base()
    {
        var log = new JobEventLog(_graph.Jobs);
        var job = await ActiveCommitJob.StartAsync(_graph, new ActiveCommitJobOptions { Device = "drive0" });
        Assert.Equal("commit", job.Type);
        Assert.Equal("drive0", job.Id);
        await log.WaitForAsync("BLOCK_JOB_READY");
        // 1M..2.5M is allocated above the base.
        Assert.Equal(1536 * 1024, job.CurrentProgress);
        var data = TempDirectory.Pattern(4096, 8);
        await _drive.WriteAsync(3 * Mib, data);
        job.Complete();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "ready", "BLOCK_JOB_READY", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        Assert.Equal(_base, _drive.Root!.Filename);
        Assert.False(_drive.Root.ReadOnly);
        Assert.DoesNotContain(_graph.Nodes, n => n.Filename == _top || n.Filename == _mid);
        var read = new byte[4096];
        await _drive.ReadAsync(3 * Mib, read);
        Assert.Equal(data, read);
        await _graph.DisposeAsync();
        // The base now holds what the top showed, the guest's last write included (the old top still has it too).
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "convert", "-f", "qcow2", "-O", "raw", _top, _expected);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "compare", "-f", "raw", "-F", "qcow2", _expected, _base);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "check", _base);
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "qcow2", "-c", "read -P 0x33 1536k 1M", "-c", "read -P 0x22 1M 512k", "-c", "read -P 0x11 0 1M", _base);
    }

    [Fact]
    public async Task Cancel_after_ready_keeps_the_overlay_active_and_the_base_read_only()
    {
        var log = new JobEventLog(_graph.Jobs);
        var top = _drive.Root!;
        var job = await ActiveCommitJob.StartAsync(_graph, new ActiveCommitJobOptions { JobId = "c0", Device = "drive0" });
        await log.WaitForAsync("BLOCK_JOB_READY");
        var baseNode = job.Target;
        Assert.False(baseNode.ReadOnly);

        await job.CancelAsync(force: false);
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "ready", "BLOCK_JOB_READY", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        Assert.Same(top, _drive.Root);
        Assert.True(baseNode.ReadOnly);
        await _graph.DisposeAsync();
        // The data is in the base already (iotest 141's point), the overlay still shows the same.
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "qcow2", "-c", "read -P 0x33 1536k 1M", "-c", "read -P 0x22 1M 512k", _base);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "compare", "-f", "qcow2", "-F", "qcow2", _top, _base);
    }

    [Fact]
    public async Task Refusals_name_the_problem_and_leave_the_base_read_only()
    {
        var backingFile = await Assert.ThrowsAsync<BlockGraphException>(() => ActiveCommitJob.StartAsync(_graph, new ActiveCommitJobOptions { JobId = "c0", Device = "drive0", BackingFile = "x" }));
        Assert.Equal("'backing-file' specified, but 'top' is the active layer", backingFile.Message);
        var speed = await Assert.ThrowsAsync<BlockGraphException>(() => ActiveCommitJob.StartAsync(_graph, new ActiveCommitJobOptions { JobId = "c0", Device = "drive0", Job = new JobOptions { Speed = -1 } }));
        Assert.Equal("Parameter 'speed' expects a non-negative value", speed.Message);
        var id = await Assert.ThrowsAsync<JobException>(() => ActiveCommitJob.StartAsync(_graph, new ActiveCommitJobOptions { JobId = "1c", Device = "drive0" }));
        Assert.Equal("Invalid job ID '1c'", id.Message);
        Assert.All(_graph.Nodes.Where(n => n.Filename == _base && n.DriverName == "qcow2"), n => Assert.True(n.ReadOnly));
        Assert.Empty(_graph.Jobs.Jobs);
    }
}
