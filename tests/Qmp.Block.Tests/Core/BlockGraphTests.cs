using System.Text.RegularExpressions;
using Qmp.Block.Backends;
using Qmp.Block.File;
using Qmp.Block.Options;
using Qmp.Block.Raw;

namespace Qmp.Block.Tests.Core;

public sealed partial class BlockGraphTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private string _image = "";

    public Task InitializeAsync()
    {
        _image = _dir.CreateSparse("disk.img", 1 << 20);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Blockdev_add_requires_a_node_name_on_the_root()
    {
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.AddAsync(new FileBlockdevOptions { Filename = _image }));
        Assert.Equal("'node-name' must be specified for the root node", e.Message);
        Assert.Empty(_graph.Nodes);
    }

    [Theory]
    [InlineData("0disk", "Invalid node-name: '0disk'")]
    [InlineData("disk#0", "Invalid node-name: 'disk#0'")]
    [InlineData("d23456789012345678901234567890123", "Node name too long")]
    public async Task Blockdev_add_checks_the_node_name(string name, string error)
    {
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.AddAsync(File(name)));
        Assert.Equal(error, e.Message);
        Assert.Empty(_graph.Nodes);
    }

    [Fact]
    public async Task Blockdev_add_refuses_a_duplicate_node_name()
    {
        var first = await _graph.AddAsync(Raw("disk0", BlockdevRef.Inline(File(null))));
        var other = _dir.CreateSparse("other.img", 4096);
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.AddAsync(new FileBlockdevOptions { NodeName = "disk0", Filename = other }));
        Assert.Equal("Duplicate nodes with node-name='disk0'", e.Message);
        Assert.Equal(2, _graph.Nodes.Count);
        Assert.Same(first, _graph.FindNode("disk0"));
    }

    [Fact]
    public async Task Blockdev_add_refuses_a_child_named_like_its_parent()
    {
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.AddAsync(Raw("disk0", BlockdevRef.Inline(File("disk0")))));
        Assert.Equal("Duplicate nodes with node-name='disk0'", e.Message);
        Assert.Empty(_graph.Nodes);
        // The child opened for the failed add let go of the image again.
        await _graph.AddAsync(File("again"));
    }

    [Fact]
    public async Task Blockdev_add_refuses_a_node_name_a_drive_uses()
    {
        await _graph.AddDriveAsync("drive0", File(null));
        var other = _dir.CreateSparse("other.img", 4096);
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.AddAsync(new FileBlockdevOptions { NodeName = "drive0", Filename = other }));
        Assert.Equal("node-name=drive0 is conflicting with a device id", e.Message);
    }

    [Fact]
    public async Task Inline_children_get_automatic_names_and_the_root_keeps_its_own()
    {
        var root = await _graph.AddAsync(Raw("disk0", BlockdevRef.Inline(File(null))));
        var child = Assert.Single(root.Children);
        Assert.Equal("file", child.Role);
        Assert.Same(child.Node, root.File);
        Assert.IsType<FileNode>(child.Node);
        Assert.Matches(AutoName(), child.Node.NodeName);
        Assert.True(child.Node.AutoNamed);
        Assert.False(root.AutoNamed);
        Assert.Equal("disk0", root.NodeName);
        Assert.Same(child.Node, _graph.FindNode(child.Node.NodeName));
        Assert.Same(root, Assert.Single(child.Node.ParentLinks).Parent);
        Assert.Equal(_image, root.Filename);
    }

    [Fact]
    public async Task Automatic_names_are_distinct()
    {
        var a = await _graph.AddAsync(Raw("a", BlockdevRef.Inline(File(null))));
        var b = await _graph.AddAsync(Raw("b", BlockdevRef.Inline(new FileBlockdevOptions { Filename = _dir.CreateSparse("b.img", 4096) })));
        Assert.NotEqual(a.File!.NodeName, b.File!.NodeName);
        Assert.Matches(AutoName(), b.File.NodeName);
    }

    [Fact]
    public async Task A_missing_file_gives_QEMUs_error_and_leaves_no_node_behind()
    {
        await _graph.AddAsync(File("existing"));
        var before = _graph.Nodes.Count;
        var e = await Assert.ThrowsAsync<BlockException>(() =>
            _graph.AddAsync(Raw("disk0", BlockdevRef.Inline(new FileBlockdevOptions { Filename = "/nonexistent/x" }))));
        Assert.Equal("Could not open '/nonexistent/x': No such file or directory", e.Message);
        Assert.Equal(before, _graph.Nodes.Count);
        Assert.Null(_graph.FindNode("disk0"));
    }

    [Fact]
    public async Task A_failure_after_the_child_opened_closes_the_child_again()
    {
        var before = _graph.Nodes.Count;
        await Assert.ThrowsAsync<BlockException>(() =>
            _graph.AddAsync(Raw("disk0", BlockdevRef.Inline(File(null))) with { Offset = 2 << 20 }));
        Assert.Equal(before, _graph.Nodes.Count);
        // Its write lock is gone with it.
        var node = await _graph.AddAsync(File("disk0"));
        Assert.True(node.Writable);
    }

    [Fact]
    public async Task A_reference_child_uses_the_existing_node()
    {
        var file = await _graph.AddAsync(File("f0"));
        var root = await _graph.AddAsync(Raw("disk0", BlockdevRef.To("f0")));
        Assert.Same(file, root.File);
        Assert.Equal(2, _graph.Nodes.Count);
        Assert.Same(root, Assert.Single(file.ParentLinks).Parent);
    }

    [Fact]
    public async Task A_reference_to_a_drive_uses_the_drives_root()
    {
        var drive = await _graph.AddDriveAsync("drive0", File(null));
        var root = await _graph.AddAsync(Raw("disk0", BlockdevRef.To("drive0")));
        Assert.Same(drive.Root, root.File);
    }

    [Fact]
    public async Task A_reference_to_a_missing_node_is_refused()
    {
        await _graph.AddAsync(File("f0"));
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.AddAsync(Raw("disk0", BlockdevRef.To("x"))));
        Assert.Equal("Cannot find device='x' nor node-name='x'", e.Message);
        Assert.Single(_graph.Nodes);
    }

    [Fact]
    public async Task A_failed_add_over_a_reference_child_keeps_the_child()
    {
        var file = await _graph.AddAsync(File("f0"));
        await Assert.ThrowsAsync<BlockException>(() => _graph.AddAsync(Raw("disk0", BlockdevRef.To("f0")) with { Offset = 2 << 20 }));
        Assert.Same(file, Assert.Single(_graph.Nodes));
        Assert.Empty(file.ParentLinks);
        await _graph.DeleteAsync("f0");
        Assert.Empty(_graph.Nodes);
    }

    [Fact]
    public async Task Blockdev_del_of_an_unknown_node_is_refused()
    {
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.DeleteAsync("nonode"));
        Assert.Equal("Failed to find node with node-name='nonode'", e.Message);
    }

    [Fact]
    public async Task Blockdev_del_of_a_node_a_device_uses_is_refused_until_the_device_lets_go()
    {
        await _graph.AddAsync(Raw("disk0", BlockdevRef.Inline(File(null))));
        var backend = _graph.ResolveDrive("disk0")!;
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.DeleteAsync("disk0"));
        Assert.Equal("Node disk0 is in use", e.Message);
        _graph.ReleaseDrive(backend);
        await _graph.DeleteAsync("disk0");
        Assert.Empty(_graph.Nodes);
    }

    [Fact]
    public async Task Blockdev_del_of_an_automatically_named_child_is_refused()
    {
        var root = await _graph.AddAsync(Raw("disk0", BlockdevRef.Inline(File(null))));
        var child = root.File!.NodeName;
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.DeleteAsync(child));
        Assert.Equal($"Node {child} is not owned by the monitor", e.Message);
        Assert.Equal(2, _graph.Nodes.Count);
    }

    [Fact]
    public async Task Blockdev_del_of_a_monitor_owned_node_under_a_parent_is_refused()
    {
        await _graph.AddAsync(File("f0"));
        await _graph.AddAsync(Raw("disk0", BlockdevRef.To("f0")));
        var e = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.DeleteAsync("f0"));
        Assert.Equal("Block device f0 is in use", e.Message);

        // Deleting the parent leaves the monitor's node, which may then go too.
        await _graph.DeleteAsync("disk0");
        var file = Assert.Single(_graph.Nodes);
        Assert.Equal("f0", file.NodeName);
        Assert.Empty(file.ParentLinks);
        await _graph.DeleteAsync("f0");
        Assert.Empty(_graph.Nodes);
    }

    [Fact]
    public async Task Blockdev_del_of_the_root_closes_its_automatically_named_children()
    {
        await _graph.AddAsync(Raw("disk0", BlockdevRef.Inline(File(null))));
        await _graph.DeleteAsync("disk0");
        Assert.Empty(_graph.Nodes);
        // The child's file and its lock are gone: the image opens read-write again, even in this process.
        var reopened = await _graph.AddAsync(File("again"));
        Assert.True(reopened.Writable);
    }

    [Fact]
    public async Task A_drive_is_a_named_backend_over_an_automatically_named_root()
    {
        var drive = await _graph.AddDriveAsync("drive0", Raw(null, BlockdevRef.Inline(File(null))));
        Assert.Equal("drive0", drive.Name);
        Assert.Equal("drive0", drive.Description);
        Assert.Same(drive, _graph.FindBackend("drive0"));
        Assert.Same(drive, Assert.Single(_graph.Backends));
        Assert.IsType<RawNode>(drive.Root);
        Assert.Matches(AutoName(), drive.Root!.NodeName);
        Assert.Matches(AutoName(), drive.Root.File!.NodeName);
        Assert.Same(drive, Assert.Single(drive.Root.Users));
    }

    [Fact]
    public async Task A_drive_root_keeps_a_given_node_name()
    {
        var drive = await _graph.AddDriveAsync("drive0", Raw("disk0", BlockdevRef.Inline(File(null))));
        Assert.Same(drive.Root, _graph.FindNode("disk0"));
    }

    [Fact]
    public async Task Drive_ids_must_be_unique_and_distinct_from_node_names()
    {
        await _graph.AddDriveAsync("drive0", File(null));
        var other = new FileBlockdevOptions { Filename = _dir.CreateSparse("other.img", 4096) };
        var duplicate = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.AddDriveAsync("drive0", other));
        Assert.Equal("Duplicate ID 'drive0' for drive", duplicate.Message);
        await _graph.AddAsync(other with { NodeName = "disk1" });
        var clash = await Assert.ThrowsAsync<BlockGraphException>(() => _graph.AddDriveAsync("disk1", other));
        Assert.Equal("Device name 'disk1' conflicts with an existing node name", clash.Message);
        Assert.Single(_graph.Backends);
    }

    [Fact]
    public async Task A_drive_that_fails_to_open_leaves_neither_backend_nor_node()
    {
        await Assert.ThrowsAsync<BlockException>(() => _graph.AddDriveAsync("drive0", new FileBlockdevOptions { Filename = "/nonexistent/x" }));
        Assert.Empty(_graph.Backends);
        Assert.Empty(_graph.Nodes);
        Assert.Null(_graph.FindBackend("drive0"));
    }

    [Fact]
    public async Task ResolveDrive_returns_a_named_drive_itself()
    {
        var drive = await _graph.AddDriveAsync("drive0", File(null));
        Assert.Same(drive, _graph.ResolveDrive("drive0"));
        _graph.ReleaseDrive(drive);
        Assert.Same(drive, Assert.Single(_graph.Backends));
        Assert.NotNull(drive.Root);
        Assert.Same(drive, _graph.ResolveDrive("drive0"));
    }

    [Fact]
    public async Task ResolveDrive_puts_an_anonymous_backend_over_a_node_and_ReleaseDrive_removes_it()
    {
        var node = await _graph.AddAsync(Raw("disk0", BlockdevRef.Inline(File(null))));
        var port = new RecordingDevicePort();
        var backend = _graph.ResolveDrive("disk0")!;
        backend.AttachDevice(port);
        Assert.Equal("", backend.Name);
        Assert.Equal(port.QomPath, backend.Description);
        Assert.Same(node, backend.Root);
        Assert.Same(backend, Assert.Single(node.Users));
        Assert.Same(backend, Assert.Single(_graph.Backends));
        Assert.Null(_graph.FindBackend(""));

        _graph.ReleaseDrive(backend);
        Assert.Empty(_graph.Backends);
        Assert.Empty(node.Users);
        Assert.Null(backend.Root);
        Assert.Null(backend.Device);
        Assert.Same(node, _graph.FindNode("disk0"));
    }

    [Fact]
    public async Task ResolveDrive_of_an_unknown_name_is_null()
    {
        await _graph.AddAsync(File("disk0"));
        Assert.Null(_graph.ResolveDrive("nothing"));
        Assert.Empty(_graph.Backends);
    }

    [Fact]
    public async Task ResolveDrive_over_a_read_only_node_gives_a_read_only_backend()
    {
        await _graph.AddAsync(File("disk0") with { ReadOnly = true });
        var backend = _graph.ResolveDrive("disk0")!;
        Assert.True(backend.ReadOnly);
        var e = await Assert.ThrowsAsync<BlockException>(async () => await backend.WriteAsync(0, new byte[512]));
        Assert.Equal(BlockError.Permission, e.Error);
    }

    [GeneratedRegex(@"^#block\d{3,}$")]
    private static partial Regex AutoName();

    private FileBlockdevOptions File(string? name) => new() { NodeName = name, Filename = _image };

    private static RawBlockdevOptions Raw(string? name, BlockdevRef file) => new() { NodeName = name, File = file };
}
