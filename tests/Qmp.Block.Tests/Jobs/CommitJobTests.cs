using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>Intermediate block-commit on real images made by qemu-img/qemu-io: results checked with qemu-img compare, check and info.</summary>
public sealed class CommitJobTests : IAsyncLifetime
{
    private const int Mib = 1 << 20;
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private string _base = "", _mid = "", _top = "", _expected = "";

    public async Task InitializeAsync()
    {
        // base.raw 0x11 everywhere, mid 0x22 at 1M..2M (and a zero cluster at 4M), top 0x33 at 1.5M..2.5M: 8 MiB.
        _base = _dir.PathOf("base.raw");
        _mid = _dir.PathOf("mid.qcow2");
        _top = _dir.PathOf("top.qcow2");
        _expected = _dir.PathOf("expected.raw");
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "raw", _base, "8M");
        await Tool(QemuTools.QemuIo, "-f", "raw", "-c", "write -P 0x11 0 8M", _base);
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", _base, "-F", "raw", _mid);
        await Tool(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x22 1M 1M", "-c", "write -z 4M 64k", _mid);
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
    public async Task Commit_of_an_intermediate_image_writes_it_into_the_base_and_repoints_the_overlay()
    {
        var top = await _graph.AddAsync(Options("top", _top));
        var baseNode = top.Backing!.Backing!;
        Assert.True(baseNode.ReadOnly);
        var log = new JobEventLog(_graph.Jobs);
        // Sampled as the job starts running: the job may well be finished by the time StartAsync returns.
        bool? readOnlyWhileRunning = null;
        _graph.Jobs.StatusChanged += (_, status) =>
        {
            if (status == Qmp.Block.Jobs.JobStatus.Running)
                readOnlyWhileRunning ??= baseNode.ReadOnly;
        };

        var job = await CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c0", Device = "top", Top = _mid });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(readOnlyWhileRunning);

        Assert.Equal(["created", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"], log.Take());
        Assert.Null(job.Error);
        Assert.Equal(8 * Mib, job.TotalProgress);
        Assert.Same(baseNode, top.Backing);
        Assert.True(baseNode.ReadOnly);
        Assert.DoesNotContain(_graph.Nodes, n => n.Filename == _mid);
        await _graph.DeleteAsync("top");
        await CheckChainAsync(_base, "raw");
        // The base alone now shows what the middle image added.
        var (_, read) = await QemuTools.RunAsync(QemuTools.QemuIo, "-f", "raw", "-c", "read -P 0x22 1M 1M", "-c", "read -P 0 4M 64k", "-c", "read -P 0x11 5M 1M", _base);
        Assert.DoesNotContain("failed", read, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Commit_writes_the_given_backing_file_string_and_takes_node_names()
    {
        await _graph.AddAsync(Options("top", _top));
        var mid = _graph.Nodes.Single(n => n.DriverName == "qcow2" && n.Filename == _mid);
        var baseNode = mid.Backing!;
        var job = await CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c0", Device = "top", TopNode = mid.NodeName, BaseNode = baseNode.NodeName, BackingFile = "base.raw" });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(job.Error);
        await _graph.DeleteAsync("top");
        await CheckChainAsync("base.raw", "raw");
    }

    [Fact]
    public async Task Commit_into_a_qcow2_base_across_two_layers_leaves_clean_images()
    {
        // base.qcow2 <- mid <- upper <- top: commit mid and upper into base.qcow2.
        var qbase = _dir.PathOf("base.qcow2");
        var upper = _dir.PathOf("upper.qcow2");
        await Tool(QemuTools.QemuImg, "convert", "-f", "raw", "-O", "qcow2", _base, qbase);
        await Tool(QemuTools.QemuImg, "rebase", "-u", "-f", "qcow2", "-b", qbase, "-F", "qcow2", _mid);
        await Tool(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", _mid, "-F", "qcow2", upper);
        await Tool(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x44 6M 1M", upper);
        await Tool(QemuTools.QemuImg, "rebase", "-u", "-f", "qcow2", "-b", upper, "-F", "qcow2", _top);
        await Tool(QemuTools.QemuImg, "convert", "-f", "qcow2", "-O", "raw", _top, _expected);

        var top = await _graph.AddAsync(Options("top", _top));
        var job = await CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c0", Device = "top", Top = upper, Base = qbase });
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(job.Error);
        Assert.Equal(qbase, top.Backing!.Filename);
        Assert.Equal(2, _graph.Nodes.Count(n => n.DriverName == "qcow2"));
        await _graph.DeleteAsync("top");
        await CheckChainAsync(qbase, "qcow2");
        await Tool(QemuTools.QemuImg, "check", qbase);
    }

    [Fact]
    public async Task Cancel_keeps_the_chain_and_makes_the_base_read_only_again()
    {
        var top = await _graph.AddAsync(Options("top", _top));
        var mid = top.Backing!;
        var log = new JobEventLog(_graph.Jobs);
        var job = await CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c0", Device = "top", Top = _mid, Job = new JobOptions { Speed = 1 } });
        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["created", "running", "aborting", "BLOCK_JOB_CANCELLED", "concluded", "null"], log.Take());
        Assert.Same(mid, top.Backing);
        Assert.True(mid.Backing!.ReadOnly);
        await _graph.DeleteAsync("top");
        var (_, info) = await QemuTools.RunAsync(QemuTools.QemuImg, "info", "-U", _top);
        Assert.Contains($"backing file: {_mid}", info, StringComparison.Ordinal);
        await Tool(QemuTools.QemuImg, "compare", "-f", "raw", "-F", "qcow2", _expected, _top);
    }

    // The reopen is real: while the job runs, qmpd holds the base's write lock, so qemu-img convert (which lets nobody write) cannot open it; before and after it can.
    [Fact]
    public async Task Base_is_reopened_read_write_only_while_the_commit_runs()
    {
        await _graph.AddAsync(Options("top", _top));
        var (exit, output) = await QemuTools.RunAsync(QemuTools.QemuImg, "convert", "-f", "raw", "-O", "raw", _base, _dir.PathOf("copy.raw"));
        Assert.True(exit == 0 && !output.Contains("Failed to get", StringComparison.Ordinal), output);
        var job = await CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c0", Device = "top", Top = _mid, Job = new JobOptions { Speed = 1 } });

        (_, output) = await QemuTools.RunAsync(QemuTools.QemuImg, "convert", "-f", "raw", "-O", "raw", _base, _dir.PathOf("copy.raw"));
        Assert.Contains("Failed to get shared \"write\" lock", output, StringComparison.Ordinal);
        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        (exit, output) = await QemuTools.RunAsync(QemuTools.QemuImg, "convert", "-f", "raw", "-O", "raw", _base, _dir.PathOf("copy.raw"));
        Assert.True(exit == 0 && !output.Contains("Failed to get", StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task Guest_writes_to_the_active_layer_during_the_commit_are_kept()
    {
        var top = await _graph.AddAsync(Options("top", _top));
        var job = await CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c0", Device = "top", Top = _mid, Job = new JobOptions { Speed = 2 * Mib } });
        var expected = await System.IO.File.ReadAllBytesAsync(_expected);
        var random = new Random(11);
        while (!job.Completion.IsCompleted)
        {
            var offset = random.Next(0, 8 * 16) * 65536L;
            var data = new byte[65536];
            random.NextBytes(data);
            await top.WriteAsync(offset, data);
            data.CopyTo(expected, offset);
            await Task.Delay(3);
        }
        Assert.Null(job.Error);
        await System.IO.File.WriteAllBytesAsync(_expected, expected);
        await _graph.DeleteAsync("top");
        await CheckChainAsync(_base, "raw");
    }

    [Fact]
    public async Task Commit_refuses_bad_arguments_with_QEMUs_errors()
    {
        await _graph.AddAsync(Options("top", _top));
        var log = new JobEventLog(_graph.Jobs);
        async Task<string> Error(CommitJobOptions options) =>
            (await Assert.ThrowsAnyAsync<Exception>(() => CommitJob.StartAsync(_graph, options))).Message;

        Assert.Equal("Invalid job ID ''", await Error(new() { Device = "top", Top = _mid }));
        Assert.Equal("Device 'nodev' not found", await Error(new() { JobId = "c", Device = "nodev" }));
        Assert.Equal($"Top image file {_dir.PathOf("nope")} not found", await Error(new() { JobId = "c", Device = "top", Top = _dir.PathOf("nope") }));
        Assert.Equal("'top-node' and 'top' are mutually exclusive", await Error(new() { JobId = "c", Device = "top", Top = _mid, TopNode = "x" }));
        Assert.Equal("Cannot find device='' nor node-name='nonode'", await Error(new() { JobId = "c", Device = "top", TopNode = "nonode" }));
        Assert.Equal($"Can't find '{_dir.PathOf("nope")}' in the backing chain", await Error(new() { JobId = "c", Device = "top", Top = _mid, Base = _dir.PathOf("nope") }));
        Assert.Equal("'base-node' and 'base' are mutually exclusive", await Error(new() { JobId = "c", Device = "top", Top = _mid, Base = _base, BaseNode = "x" }));
        Assert.Equal("'top' is not in this backing file chain", await Error(new() { JobId = "c", Device = "top", Top = _mid, BaseNode = "top" }));
        Assert.Equal("cannot commit an image into itself", await Error(new() { JobId = "c", Device = "top", Top = _base }));
        Assert.Equal("'backing-file' specified, but 'top' is the active layer", await Error(new() { JobId = "c", Device = "top", Top = _top, BackingFile = "x" }));
        Assert.Equal("Invalid job ID '1c'", await Error(new() { JobId = "1c", Device = "top", Top = _mid }));
        Assert.Empty(log.Take());
        Assert.Equal("Parameter 'speed' expects a non-negative value", await Error(new() { JobId = "c", Device = "top", Top = _mid, Job = new JobOptions { Speed = -1 } }));
        Assert.Equal(["created", "null"], log.Take());
        Assert.Empty(_graph.Jobs.Jobs);
        Assert.All(_graph.Nodes.Where(n => n.Filename == _base), n => Assert.True(n.ReadOnly));
    }

    [Fact]
    public async Task Intermediate_commit_refuses_the_active_layer_as_top_and_a_busy_device_is_not_a_root()
    {
        await _graph.AddAsync(Options("top", _top));
        var active = await Assert.ThrowsAsync<BlockGraphException>(() => CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c", Device = "top" }));
        Assert.StartsWith("Active commit", active.Message, StringComparison.Ordinal);
        Assert.True(CommitJob.Plan(_graph, new CommitJobOptions { Device = "top" }).IsActive);

        var job = await CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "c", Device = "top", Top = _mid, Job = new JobOptions { Speed = 1 } });
        Assert.Equal("Need a root block node", (await Assert.ThrowsAsync<BlockGraphException>(() => CommitJob.StartAsync(_graph, new CommitJobOptions { JobId = "d", Device = "top", Top = _mid }))).Message);
        Assert.Equal("Node 'top' is busy: block device is in use by block job: commit", (await Assert.ThrowsAsync<BlockGraphException>(() => _graph.DeleteAsync("top"))).Message);
        await job.CancelAsync();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
    }

    // The chain read through the top equals the expected contents, the top is clean and names the new backing file.
    private async Task CheckChainAsync(string backing, string format)
    {
        await Tool(QemuTools.QemuImg, "compare", "-f", "raw", "-F", "qcow2", _expected, _top);
        await Tool(QemuTools.QemuImg, "check", _top);
        var (_, info) = await QemuTools.RunAsync(QemuTools.QemuImg, "info", _top);
        Assert.Contains($"backing file: {backing}", info, StringComparison.Ordinal);
        Assert.Contains($"backing file format: {format}", info, StringComparison.Ordinal);
    }

    private static Qcow2BlockdevOptions Options(string name, string path) =>
        new() { NodeName = name, File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }) };

    private static async Task Tool(string tool, params string[] arguments)
    {
        var (exit, output) = await QemuTools.RunAsync(tool, arguments);
        Assert.True(exit == 0, $"{tool} {string.Join(' ', arguments)}: {output}");
    }
}
