using Qmp.Block.File;
using Qmp.Block.Options;
using Qmp.TestSupport;

namespace Qmp.Block.Tests.Core;

/// <summary>Our image locks against QEMU 7.2's qemu-img and qemu-io, which use the same OFD lock bytes.</summary>
public sealed class ImageLockTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private string _image = "";

    public Task InitializeAsync()
    {
        _image = _dir.CreateFile("disk.img", TempDirectory.Pattern(1 << 16, 40));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task While_we_hold_the_image_read_write_qemu_io_cannot_open_it()
    {
        await OpenAsync();
        var (exitCode, output) = await QemuIoAsync("read 0 512");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("Failed to get \"write\" lock", output, StringComparison.Ordinal);
        Assert.Contains("Is another process using the image", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task While_we_hold_a_qcow2_image_read_write_qemu_img_info_needs_force_share()
    {
        var qcow2 = _dir.PathOf("disk.qcow2");
        var created = await QemuTools.RunAsync(QemuTools.QemuImg, "create", "-q", "-f", "qcow2", qcow2, "1M");
        Assert.True(created.ExitCode == 0, created.Output);
        await _graph.AddAsync(new FileBlockdevOptions { NodeName = "file0", Filename = qcow2 });

        // As against a running QEMU: reading the qcow2 header needs a consistent read that refuses writers.
        var refused = await QemuTools.RunAsync(QemuTools.QemuImg, "info", qcow2);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Failed to get shared \"write\" lock", refused.Output, StringComparison.Ordinal);

        var shared = await QemuTools.RunAsync(QemuTools.QemuImg, "info", "-U", qcow2);
        Assert.True(shared.ExitCode == 0, shared.Output);
        Assert.Contains("file format: qcow2", shared.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task While_we_hold_a_raw_image_qemu_img_info_works_as_it_does_against_QEMU()
    {
        await OpenAsync();
        var (exitCode, output) = await QemuTools.RunAsync(QemuTools.QemuImg, "info", "-f", "raw", _image);
        Assert.True(exitCode == 0, output);
        Assert.Contains("virtual size: 64 KiB (65536 bytes)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_read_write_open_in_this_process_is_refused()
    {
        await OpenAsync();
        var e = Assert.Throws<BlockException>(() => FileNode.Open(_image, readOnly: false));
        Assert.Equal(BlockError.Permission, e.Error);
        Assert.StartsWith("Failed to get \"write\" lock", e.Message, StringComparison.Ordinal);
        Assert.Contains($"Is another process using the image [{_image}]?", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_read_only_open_while_we_write_is_refused_because_we_do_not_share_write()
    {
        await OpenAsync();
        var e = Assert.Throws<BlockException>(() => FileNode.Open(_image, readOnly: true));
        Assert.StartsWith("Failed to get shared \"write\" lock", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_readers_share_the_image()
    {
        await OpenAsync(readOnly: true);
        var second = FileNode.Open(_image, readOnly: true);
        await second.CloseAsync();
        var (exitCode, output) = await QemuTools.RunAsync(QemuTools.QemuIo, "-r", "-f", "raw", "-c", "read 0 512", _image);
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task Inactivation_releases_the_lock_and_activation_takes_it_again()
    {
        var node = await OpenAsync();
        await node.InactivateAsync();
        Assert.Equal(BlockActivation.Inactive, node.Activation);
        var (exitCode, output) = await QemuIoAsync("write -P 0x5a 0 512");
        Assert.True(exitCode == 0, output);

        await node.ActivateAsync();
        Assert.Equal(BlockActivation.Active, node.Activation);
        var back = new byte[512];
        await node.ReadAsync(0, back);
        Assert.All(back, b => Assert.Equal(0x5a, b));
        var refused = await QemuIoAsync("read 0 512");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Failed to get \"write\" lock", refused.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_opened_inactive_holds_no_lock_until_activated()
    {
        var node = await OpenAsync(active: false);
        Assert.Equal(BlockActivation.Inactive, node.Activation);
        var (exitCode, output) = await QemuIoAsync("write 0 512");
        Assert.True(exitCode == 0, output);
        await node.ActivateAsync();
        Assert.NotEqual(0, (await QemuIoAsync("read 0 512")).ExitCode);
    }

    [Fact]
    public async Task Without_locking_no_lock_is_taken()
    {
        var node = await OpenAsync(locking: "off");
        Assert.True(node.Writable);
        var (exitCode, output) = await QemuIoAsync("write -P 0x33 0 512");
        Assert.True(exitCode == 0, output);
        var second = FileNode.Open(_image, readOnly: false);
        await second.CloseAsync();
    }

    [Fact]
    public async Task While_qemu_io_holds_the_image_we_cannot_open_it_read_write()
    {
        await using (await QemuIoHolder.OpenAsync(QemuTools.QemuIo, ["-f", "raw", _image]))
        {
            var e = await Assert.ThrowsAsync<BlockException>(() => OpenAsync());
            Assert.StartsWith("Failed to get shared \"write\" lock", e.Message, StringComparison.Ordinal);
            Assert.Empty(_graph.Nodes);
        }
        var node = await OpenAsync();
        Assert.True(node.Writable);
    }

    [Fact]
    public async Task While_qemu_io_holds_the_image_activation_fails_and_can_be_retried()
    {
        var node = await OpenAsync(active: false);
        await using (await QemuIoHolder.OpenAsync(QemuTools.QemuIo, ["-f", "raw", _image]))
        {
            var e = await Assert.ThrowsAsync<BlockException>(() => node.ActivateAsync());
            Assert.Contains("lock", e.Message, StringComparison.Ordinal);
            Assert.NotEqual(BlockActivation.Active, node.Activation);
            await FileNodeIoTests.AssertRefusedAsync(BlockError.Permission, () => node.WriteAsync(0, new byte[512]));
        }
        await node.ActivateAsync();
        Assert.Equal(BlockActivation.Active, node.Activation);
        await node.WriteAsync(0, new byte[512]);
    }

    private Task<(int ExitCode, string Output)> QemuIoAsync(string command) =>
        QemuTools.RunAsync(QemuTools.QemuIo, "-f", "raw", "-c", command, _image);

    private async Task<FileNode> OpenAsync(bool readOnly = false, bool active = true, string locking = "auto") =>
        Assert.IsType<FileNode>(await _graph.AddAsync(new FileBlockdevOptions
        {
            NodeName = "disk0",
            Filename = _image,
            ReadOnly = readOnly,
            Active = active,
            Locking = locking,
        }));
}
