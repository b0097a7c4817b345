using Qmp.Block.File;
using Qmp.Block.Options;

namespace Qmp.Block.Tests.Core;

public sealed class FileNodeIoTests : IAsyncLifetime
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
    public async Task Writes_read_back_and_reach_the_host_file()
    {
        var path = _dir.CreateFile("disk.img", TempDirectory.Pattern(65536, 1));
        var node = await OpenAsync(path);
        var model = System.IO.File.ReadAllBytes(path);
        var random = new Random(2);
        foreach (var (offset, length) in new[] { (0, 512), (100, 1), (4095, 2), (7000, 20000), (65000, 536) })
        {
            var data = new byte[length];
            random.NextBytes(data);
            await node.WriteAsync(offset, data);
            data.CopyTo(model, offset);
            var back = new byte[length];
            await node.ReadAsync(offset, back);
            Assert.Equal(data, back);
        }
        await node.FlushAsync();
        Assert.Equal(65536, node.Length);
        Assert.Equal(model, ReadHost(path));
    }

    [Fact]
    public async Task Reads_past_the_end_of_the_file_return_zeroes()
    {
        var contents = TempDirectory.Pattern(1000, 3);
        var path = _dir.CreateFile("disk.img", contents);
        var node = await OpenAsync(path);
        var buffer = new byte[8192];
        Array.Fill(buffer, (byte)0xEE);
        await node.ReadAsync(0, buffer);
        Assert.Equal(contents, buffer[..1000]);
        Assert.All(buffer[1000..], b => Assert.Equal(0, b));

        Array.Fill(buffer, (byte)0xEE);
        await node.ReadAsync(1 << 20, buffer);
        Assert.All(buffer, b => Assert.Equal(0, b));
        Assert.Equal(1000, node.Length);
        Assert.Equal(1000, new FileInfo(path).Length);
    }

    [Fact]
    public async Task Writes_past_the_end_grow_the_file_and_the_gap_reads_as_zeroes()
    {
        var path = _dir.CreateFile("disk.img", TempDirectory.Pattern(1000, 4));
        var node = await OpenAsync(path);
        var data = TempDirectory.Pattern(100, 5);
        await node.WriteAsync(10000, data);
        Assert.Equal(10100, node.Length);
        Assert.Equal(10100, new FileInfo(path).Length);
        var back = new byte[9100];
        await node.ReadAsync(1000, back);
        Assert.All(back[..9000], b => Assert.Equal(0, b));
        Assert.Equal(data, back[9000..]);
    }

    [Fact]
    public async Task Write_zeroes_zeroes_the_range_inside_and_grows_the_file_past_the_end()
    {
        var contents = TempDirectory.Pattern(65536, 6);
        var path = _dir.CreateFile("disk.img", contents);
        var node = await OpenAsync(path);
        await node.WriteZeroesAsync(1000, 9000);
        await node.WriteZeroesAsync(16384, 8192, BlockWriteFlags.MayUnmap);
        await node.WriteZeroesAsync(61440, 20480);
        Assert.Equal(81920, node.Length);

        var expected = new byte[81920];
        contents.CopyTo(expected, 0);
        Array.Clear(expected, 1000, 9000);
        Array.Clear(expected, 16384, 8192);
        Array.Clear(expected, 61440, 20480);
        var back = new byte[81920];
        await node.ReadAsync(0, back);
        Assert.Equal(expected, back);
        Assert.Equal(expected, ReadHost(path));
    }

    [Fact]
    public async Task Discard_with_discard_unmap_reads_back_as_zeroes_and_keeps_the_size()
    {
        var contents = TempDirectory.Pattern(65536, 7);
        var path = _dir.CreateFile("disk.img", contents);
        var node = await OpenAsync(path, discardUnmap: true);
        await node.DiscardAsync(8192, 16384);
        await node.DiscardAsync(61440, 65536);
        Assert.Equal(65536, node.Length);
        Assert.Equal(65536, new FileInfo(path).Length);
        var back = new byte[65536];
        await node.ReadAsync(0, back);
        Assert.Equal(contents[..8192], back[..8192]);
        Assert.All(back[8192..24576], b => Assert.Equal(0, b));
        Assert.Equal(contents[24576..61440], back[24576..61440]);
    }

    [Fact]
    public async Task Discard_is_dropped_with_the_default_discard_ignore()
    {
        var contents = TempDirectory.Pattern(65536, 7);
        var path = _dir.CreateFile("disk.img", contents);
        var node = await OpenAsync(path);
        await node.DiscardAsync(8192, 16384);
        var back = new byte[65536];
        await node.ReadAsync(0, back);
        Assert.Equal(contents, back);
    }

    [Fact]
    public async Task Truncate_shrinks_and_grows_the_file()
    {
        var contents = TempDirectory.Pattern(65536, 8);
        var path = _dir.CreateFile("disk.img", contents);
        var node = await OpenAsync(path);
        await node.TruncateAsync(10000);
        Assert.Equal(10000, node.Length);
        Assert.Equal(10000, new FileInfo(path).Length);
        await node.TruncateAsync(20000);
        Assert.Equal(20000, node.Length);
        var back = new byte[20000];
        await node.ReadAsync(0, back);
        Assert.Equal(contents[..10000], back[..10000]);
        Assert.All(back[10000..], b => Assert.Equal(0, b));
        await Assert.ThrowsAsync<BlockException>(async () => await node.TruncateAsync(-1));
    }

    [Fact]
    public async Task Status_tells_holes_from_data_in_a_sparse_file()
    {
        var path = _dir.CreateSparse("disk.img", 1 << 20);
        var node = await OpenAsync(path);
        var block = TempDirectory.Pattern(4096, 9);
        await node.WriteAsync(0, block);
        await node.WriteAsync(512 * 1024, block);
        await node.WriteAsync(516 * 1024, block);

        var first = await node.GetStatusAsync(0, 1 << 20);
        Assert.Equal(new BlockStatus(4096, BlockStatusFlags.Data | BlockStatusFlags.Allocated | BlockStatusFlags.OffsetValid, 0), first);
        var hole = await node.GetStatusAsync(4096, 1 << 20);
        Assert.Equal(512 * 1024 - 4096, hole.Length);
        Assert.True(hole.Flags.HasFlag(BlockStatusFlags.Zero));
        Assert.False(hole.Flags.HasFlag(BlockStatusFlags.Data));
        Assert.Equal(4096, hole.HostOffset);
        var data = await node.GetStatusAsync(512 * 1024, 1 << 20);
        Assert.Equal(8192, data.Length);
        Assert.True(data.Flags.HasFlag(BlockStatusFlags.Data));
        var tail = await node.GetStatusAsync(520 * 1024, (1 << 20) - 520 * 1024);
        Assert.Equal((1 << 20) - 520 * 1024, tail.Length);
        Assert.True(tail.Flags.HasFlag(BlockStatusFlags.Zero));
        var clipped = await node.GetStatusAsync(4096, 100);
        Assert.Equal(100, clipped.Length);
    }

    [Fact]
    public async Task Status_of_a_punched_hole_is_zero()
    {
        var path = _dir.CreateFile("disk.img", TempDirectory.Pattern(65536, 10));
        var node = await OpenAsync(path, discardUnmap: true);
        Assert.True((await node.GetStatusAsync(0, 65536)).Flags.HasFlag(BlockStatusFlags.Data));
        await node.WriteZeroesAsync(16384, 16384, BlockWriteFlags.MayUnmap);
        var status = await node.GetStatusAsync(16384, 65536);
        Assert.Equal(16384, status.Length);
        Assert.True(status.Flags.HasFlag(BlockStatusFlags.Zero));
    }

    [Fact]
    public async Task A_read_only_node_refuses_every_kind_of_write()
    {
        var contents = TempDirectory.Pattern(8192, 11);
        var path = _dir.CreateFile("disk.img", contents);
        var node = await _graph.AddAsync(new FileBlockdevOptions { NodeName = "ro", Filename = path, ReadOnly = true });
        Assert.True(node.ReadOnly);
        Assert.False(node.Writable);
        await AssertRefusedAsync(BlockError.Permission, () => node.WriteAsync(0, new byte[512]));
        await AssertRefusedAsync(BlockError.Permission, () => node.WriteZeroesAsync(0, 512));
        await AssertRefusedAsync(BlockError.Permission, () => node.DiscardAsync(0, 512));
        await AssertRefusedAsync(BlockError.Permission, () => node.TruncateAsync(512));
        await node.FlushAsync();
        var back = new byte[8192];
        await node.ReadAsync(0, back);
        Assert.Equal(contents, back);
        Assert.Equal(contents, ReadHost(path));
    }

    [Fact]
    public async Task Requests_with_negative_offsets_or_lengths_are_invalid()
    {
        var node = await OpenAsync(_dir.CreateSparse("disk.img", 8192));
        await AssertRefusedAsync(BlockError.Invalid, () => node.ReadAsync(-1, new byte[1]));
        await AssertRefusedAsync(BlockError.Invalid, () => node.WriteAsync(-512, new byte[512]));
        await AssertRefusedAsync(BlockError.Invalid, () => node.WriteZeroesAsync(0, -1));
        Assert.Equal(0, node.InFlight);
    }

    [Fact]
    public async Task Describe_image_reports_the_file_and_its_size()
    {
        var path = _dir.CreateFile("disk.img", TempDirectory.Pattern(8192, 12));
        var node = await OpenAsync(path);
        var info = node.DescribeImage();
        Assert.Equal(path, info.Filename);
        Assert.Equal("file", info.Format);
        Assert.Equal(8192, info.VirtualSize);
        Assert.True(info.ActualSize >= 8192);
    }

    internal static async Task AssertRefusedAsync(BlockError error, Func<ValueTask> request)
    {
        var e = await Assert.ThrowsAsync<BlockException>(async () => await request());
        Assert.Equal(error, e.Error);
    }

    private static byte[] ReadHost(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private async Task<FileNode> OpenAsync(string path, bool discardUnmap = false) =>
        Assert.IsType<FileNode>(await _graph.AddAsync(new FileBlockdevOptions { NodeName = $"f{_graph.Nodes.Count}", Filename = path, DiscardUnmap = discardUnmap }));
}
