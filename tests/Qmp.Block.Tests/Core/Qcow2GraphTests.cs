using Qmp.Block.Options;
using Qmp.Block.Qcow2;
using Qmp.Block.Raw;

namespace Qmp.Block.Tests.Core;

/// <summary>qcow2 nodes in the graph: backing chains opened from the image, inactivation of dirty images, external snapshots.</summary>
public sealed class Qcow2GraphTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Backing_file_named_in_the_image_opens_read_only_under_an_automatic_name()
    {
        var pattern = TempDirectory.Pattern(65536, 3);
        var basePath = _dir.CreateFile("base.raw", [.. pattern, .. new byte[1048576 - 65536]]);
        var overlayPath = _dir.PathOf("overlay.qcow2");
        await Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "raw", overlayPath);

        var node = await _graph.AddAsync(Qcow2Options("top", overlayPath));

        var backing = Assert.IsType<RawNode>(node.Backing);
        Assert.True(backing.ReadOnly);
        Assert.True(backing.File!.ReadOnly);
        Assert.StartsWith("#block", backing.NodeName, StringComparison.Ordinal);
        var read = new byte[65536];
        await node.ReadAsync(0, read);
        Assert.Equal(pattern, read);
    }

    [Fact]
    public async Task Missing_backing_file_fails_the_open_and_leaves_no_node()
    {
        var basePath = _dir.CreateSparse("base.raw", 1048576);
        var overlayPath = _dir.PathOf("overlay.qcow2");
        await Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "raw", overlayPath);
        System.IO.File.Delete(basePath);

        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.AddAsync(Qcow2Options("top", overlayPath)));

        Assert.Equal($"Could not open backing file: Could not open '{basePath}': No such file or directory", e.Message);
        Assert.Empty(_graph.Nodes);
    }

    // The seed of QEMU 403d18ae: a qcow2 node writes its metadata back while it inactivates, so its file must take those writes.
    [Fact]
    public async Task Dirty_lazy_refcount_image_inactivates_cleanly_and_reactivates()
    {
        var path = _dir.PathOf("lazy.qcow2");
        await Img("create", "-q", "-f", "qcow2", "-o", "lazy_refcounts=on", path, "4M");
        await _graph.AddAsync(Qcow2Options("disk0", path) with { LazyRefcounts = true });
        var drive = _graph.ResolveDrive("disk0")!;
        await drive.WriteAsync(65536, TempDirectory.Pattern(131072, 5));

        await _graph.InactivateAllAsync();

        Assert.All(_graph.Nodes, n => Assert.Equal(BlockActivation.Inactive, n.Activation));
        var (exit, output) = await QemuTools.RunAsync(QemuTools.QemuImg, "check", path);
        Assert.True(exit == 0, output);
        await _graph.ActivateAllAsync();
        Assert.True(_graph.AllActive);
        await drive.WriteAsync(0, TempDirectory.Pattern(4096, 6));
    }

    [Fact]
    public async Task Snapshot_sync_puts_a_new_overlay_under_the_drive()
    {
        var basePath = _dir.CreateFile("base.raw", TempDirectory.Pattern(1048576, 7));
        var drive = await _graph.AddDriveAsync("d0", new RawBlockdevOptions { File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = basePath }) });
        var oldRoot = drive.Root!;
        var snapshotPath = _dir.PathOf("snap.qcow2");

        await _graph.SnapshotSyncAsync("d0", null, snapshotPath, "snap1", "qcow2", existing: false);

        var overlay = Assert.IsType<Qcow2Node>(drive.Root);
        Assert.Equal("snap1", overlay.NodeName);
        Assert.Same(oldRoot, overlay.Backing);
        await drive.WriteAsync(0, new byte[4096]);
        await drive.FlushAsync();
        var baseBytes = await System.IO.File.ReadAllBytesAsync(basePath);
        Assert.Equal(TempDirectory.Pattern(1048576, 7), baseBytes);
        var (exit, info) = await QemuTools.RunAsync(QemuTools.QemuImg, "info", "-U", snapshotPath);
        Assert.True(exit == 0, info);
        Assert.Contains($"backing file: {basePath}", info, StringComparison.Ordinal);
        Assert.Contains("backing file format: raw", info, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Snapshot_refuses_an_overlay_that_already_has_a_backing_file()
    {
        var basePath = _dir.CreateSparse("base.raw", 1048576);
        var overlayPath = _dir.PathOf("overlay.qcow2");
        await Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "raw", overlayPath);
        await _graph.AddDriveAsync("d0", new RawBlockdevOptions { File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = _dir.CreateSparse("disk.raw", 1048576) }) });
        await _graph.AddAsync(Qcow2Options("ov", overlayPath));

        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.SnapshotAsync("d0", "ov"));

        Assert.Equal("The overlay already has a backing image", e.Message);
    }

    private static Qcow2BlockdevOptions Qcow2Options(string name, string path) =>
        new() { NodeName = name, File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path }) };

    private static async Task Img(params string[] arguments)
    {
        var (exit, output) = await QemuTools.RunAsync(QemuTools.QemuImg, arguments);
        Assert.True(exit == 0, $"qemu-img {string.Join(' ', arguments)}: {output}");
    }
}
