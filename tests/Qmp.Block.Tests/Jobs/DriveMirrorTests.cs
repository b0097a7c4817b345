using Qmp.Block.Backends;
using Qmp.Block.Jobs;
using Qmp.Block.Options;
using Qmp.Block.Tests.Core;

namespace Qmp.Block.Tests.Jobs;

/// <summary>drive-mirror: the target image it creates for each sync mode, the pivot onto it, and its rollback.</summary>
public sealed class DriveMirrorTests : IAsyncLifetime
{
    private const int Mib = 1 << 20;
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private string _base = "", _top = "";
    private BlockBackend _drive = null!;

    public async Task InitializeAsync()
    {
        // base.raw 0x11 everywhere, top.qcow2 0x33 at 1M..2M: 4 MiB, as drive0 (a -drive with automatic node names).
        _base = _dir.PathOf("base.raw");
        _top = _dir.PathOf("top.qcow2");
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "raw", _base, "4M");
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "raw", "-c", "write -P 0x11 0 4M", _base);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", "-b", _base, "-F", "raw", _top);
        await MirrorTestImages.ToolAsync(QemuTools.QemuIo, "-f", "qcow2", "-c", "write -P 0x33 1M 1M", _top);
        _drive = await _graph.AddDriveAsync("drive0", new Qcow2BlockdevOptions { File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _top }) });
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Sync_full_creates_a_standalone_qcow2_and_complete_pivots_the_drive_onto_it()
    {
        var path = _dir.PathOf("full.qcow2");
        var job = await DriveMirror.StartAsync(_graph, Options(path, MirrorSyncMode.Full) with { NodeName = "copy" });
        Assert.Equal("drive0", job.Id);
        await WaitReadyAsync(job);
        job.Complete();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("copy", _drive.Root!.NodeName);
        Assert.Null(_drive.Root.Backing);
        // The old chain of the drive is gone from the graph.
        Assert.DoesNotContain(_graph.Nodes, n => n.Filename == _top);
        await _graph.DisposeAsync();
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "compare", "-f", "qcow2", "-F", "qcow2", _top, path);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "check", path);
        var (_, info) = await QemuTools.RunAsync(QemuTools.QemuImg, "info", path);
        Assert.DoesNotContain("backing file", info);
    }

    [Fact]
    public async Task Sync_top_copies_only_the_top_layer_and_the_target_is_backed_by_the_base()
    {
        var path = _dir.PathOf("topcopy.qcow2");
        var job = await DriveMirror.StartAsync(_graph, Options(path, MirrorSyncMode.Top));
        await WaitReadyAsync(job);
        Assert.Equal(Mib, job.CurrentProgress);
        job.Complete();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(path, _drive.Root!.Filename);
        Assert.Equal(_base, _drive.Root.Backing!.Filename);
        await _graph.DisposeAsync();
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "compare", "-f", "qcow2", "-F", "qcow2", _top, path);
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "check", path);
        var (_, map) = await QemuTools.RunAsync(QemuTools.QemuImg, "map", "--output=json", path);
        Assert.Contains("\"start\": 1048576, \"length\": 1048576, \"depth\": 0", map);
        Assert.Contains("\"start\": 0, \"length\": 1048576, \"depth\": 1", map);
    }

    [Fact]
    public async Task Sync_none_copies_only_new_writes_and_the_target_is_backed_by_the_source()
    {
        var path = _dir.PathOf("none.qcow2");
        var job = await DriveMirror.StartAsync(_graph, Options(path, MirrorSyncMode.None));
        await WaitReadyAsync(job);
        Assert.Equal(0, job.CurrentProgress);
        var data = TempDirectory.Pattern(65536, 4);
        await _drive.WriteAsync(3 * Mib, data);
        job.Complete();
        await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(path, _drive.Root!.Filename);
        Assert.Equal(_top, _drive.Root.Backing!.Filename);
        var read = new byte[65536];
        await _drive.ReadAsync(3 * Mib, read);
        Assert.Equal(data, read);
        await _graph.DisposeAsync();
        await MirrorTestImages.ToolAsync(QemuTools.QemuImg, "check", path);
        var (_, map) = await QemuTools.RunAsync(QemuTools.QemuImg, "map", "--output=json", path);
        Assert.Contains("\"start\": 3145728, \"length\": 65536, \"depth\": 0", map);
    }

    [Fact]
    public async Task A_refused_drive_mirror_removes_the_image_it_created()
    {
        var path = _dir.PathOf("gone.qcow2");
        var nodes = _graph.Nodes.Count;
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => DriveMirror.StartAsync(_graph, Options(path, MirrorSyncMode.Full) with { Mirror = Options(path, MirrorSyncMode.Full).Mirror with { Granularity = 3000 } }));
        Assert.Equal("Parameter 'granularity' expects a power of 2", e.Message);
        Assert.False(System.IO.File.Exists(path));
        Assert.Equal(nodes, _graph.Nodes.Count);
        Assert.Empty(_graph.Jobs.Jobs);
    }

    [Theory]
    [InlineData("xyz", null, "Unknown file format 'xyz'")]
    [InlineData("raw", MirrorSyncMode.Top, "Backing file not supported for file format 'raw'")]
    public async Task Bad_formats_are_refused_with_QEMUs_text(string format, MirrorSyncMode? sync, string expected)
    {
        var path = _dir.PathOf("bad.img");
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => DriveMirror.StartAsync(_graph, Options(path, sync ?? MirrorSyncMode.Full) with { Format = format }));
        Assert.Equal(expected, e.Message);
        Assert.False(System.IO.File.Exists(path));
    }

    [Fact]
    public async Task The_sources_own_file_is_never_formatted()
    {
        var before = await System.IO.File.ReadAllBytesAsync(_top);
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => DriveMirror.StartAsync(_graph, Options(_top, MirrorSyncMode.Full)));
        Assert.Equal("Failed to get \"write\" lock", e.Message);
        Assert.Equal(before, await System.IO.File.ReadAllBytesAsync(_top));
    }

    [Fact]
    public async Task Replaces_needs_a_node_name_and_existing_mode_needs_the_file()
    {
        var path = _dir.PathOf("x.qcow2");
        var replaces = await Assert.ThrowsAsync<BlockGraphException>(() => DriveMirror.StartAsync(_graph, Options(path, MirrorSyncMode.Full) with { Mirror = Options(path, MirrorSyncMode.Full).Mirror with { Replaces = "x" } }));
        Assert.Equal("a node-name must be provided when replacing a named node of the graph", replaces.Message);
        var existing = await Assert.ThrowsAsync<BlockException>(() => DriveMirror.StartAsync(_graph, Options(path, MirrorSyncMode.Full) with { Existing = true, Format = "qcow2" }));
        Assert.Equal($"Could not open '{path}': No such file or directory", existing.Message);
    }

    private static DriveMirrorOptions Options(string path, MirrorSyncMode sync) => new()
    {
        Mirror = new MirrorJobOptions { Device = "drive0", Target = path, Sync = sync },
    };

    private static async Task WaitReadyAsync(Job job)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (job.Status != JobStatus.Ready)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job stuck in {job.Status}");
            await Task.Delay(2);
        }
    }
}
