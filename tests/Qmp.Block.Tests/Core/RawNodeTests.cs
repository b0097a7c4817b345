using Qmp.Block.Options;
using Qmp.Block.Raw;

namespace Qmp.Block.Tests.Core;

public sealed class RawNodeTests : IAsyncLifetime
{
    private const int FileSize = 65536;

    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private byte[] _contents = [];
    private string _path = "";
    private BlockNode _file = null!;

    public async Task InitializeAsync()
    {
        _contents = TempDirectory.Pattern(FileSize, 30);
        _path = _dir.CreateFile("disk.img", _contents);
        _file = await _graph.AddAsync(new FileBlockdevOptions { NodeName = "f0", Filename = _path, DiscardUnmap = true });
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Without_a_window_the_raw_node_is_the_whole_file()
    {
        var raw = await AddRawAsync(0, null);
        Assert.IsType<RawNode>(raw);
        Assert.Equal("raw", raw.DriverName);
        Assert.Equal(FileSize, raw.Length);
        Assert.Equal(_path, raw.Filename);
        var back = new byte[FileSize];
        await raw.ReadAsync(0, back);
        Assert.Equal(_contents, back);
    }

    [Fact]
    public async Task A_window_reads_and_writes_only_its_part_of_the_file()
    {
        var raw = await AddRawAsync(4096, 8192);
        Assert.Equal(8192, raw.Length);
        var back = new byte[8192];
        await raw.ReadAsync(0, back);
        Assert.Equal(_contents[4096..12288], back);

        var data = TempDirectory.Pattern(8192, 31);
        await raw.WriteAsync(0, data);
        await raw.WriteZeroesAsync(100, 100);
        Array.Clear(data, 100, 100);
        await raw.FlushAsync();
        var host = System.IO.File.ReadAllBytes(_path);
        Assert.Equal(_contents[..4096], host[..4096]);
        Assert.Equal(data, host[4096..12288]);
        Assert.Equal(_contents[12288..], host[12288..]);
    }

    [Fact]
    public async Task Requests_outside_the_window_are_invalid_and_change_nothing()
    {
        var raw = await AddRawAsync(4096, 8192);
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Invalid, () => raw.ReadAsync(8191, new byte[2]));
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Invalid, () => raw.ReadAsync(8192, new byte[1]));
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Invalid, () => raw.WriteAsync(8000, new byte[512]));
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Invalid, () => raw.WriteZeroesAsync(0, 8193));
        await FileNodeIoTests.AssertRefusedAsync(BlockError.Invalid, () => raw.DiscardAsync(-1, 10));
        await raw.ReadAsync(8192, Memory<byte>.Empty);
        Assert.Equal(_contents, System.IO.File.ReadAllBytes(_path));
        Assert.Equal(FileSize, _file.Length);
    }

    [Fact]
    public async Task Discard_and_status_are_shifted_by_the_offset()
    {
        var raw = await AddRawAsync(8192, 32768, discardUnmap: true);
        await raw.DiscardAsync(4096, 8192);
        var back = new byte[32768];
        await raw.ReadAsync(0, back);
        Assert.Equal(_contents[8192..12288], back[..4096]);
        Assert.All(back[4096..12288], b => Assert.Equal(0, b));
        Assert.Equal(_contents[20480..40960], back[12288..]);
        var status = await raw.GetStatusAsync(4096, 32768 - 4096);
        Assert.Equal(8192, status.Length);
        Assert.True(status.Flags.HasFlag(BlockStatusFlags.Zero));
        Assert.Equal(8192 + 4096, status.HostOffset);
    }

    [Fact]
    public async Task A_window_without_a_size_runs_to_the_end_of_the_file_and_follows_it()
    {
        var raw = await AddRawAsync(4096, null);
        Assert.Equal(FileSize - 4096, raw.Length);
        await _file.WriteAsync(FileSize, new byte[4096]);
        Assert.Equal(FileSize, raw.Length);
    }

    [Fact]
    public void An_offset_past_the_end_of_the_file_is_refused()
    {
        var e = Assert.Throws<BlockException>(() => RawNode.Open(_file, false, FileSize + 1));
        Assert.Equal($"Offset ({FileSize + 1}) cannot be greater than size of the containing file ({FileSize})", e.Message);
    }

    [Fact]
    public void A_window_past_the_end_of_the_file_is_refused()
    {
        var e = Assert.Throws<BlockException>(() => RawNode.Open(_file, false, 4096, FileSize));
        Assert.Equal($"The sum of offset (4096) and size ({FileSize}) has to be smaller or equal to the  actual size of the containing file ({FileSize})", e.Message);
    }

    [Fact]
    public void A_size_that_is_not_a_multiple_of_512_is_refused()
    {
        var e = Assert.Throws<BlockException>(() => RawNode.Open(_file, false, 0, 1000));
        Assert.Equal("Specified size is not multiple of 512", e.Message);
    }

    [Fact]
    public async Task A_refused_window_leaves_no_raw_node_in_the_graph()
    {
        await Assert.ThrowsAsync<BlockException>(() => AddRawAsync(FileSize + 512, null));
        Assert.Same(_file, Assert.Single(_graph.Nodes));
        Assert.Empty(_file.ParentLinks);
    }

    [Fact]
    public async Task Truncating_a_raw_node_without_a_window_resizes_the_file()
    {
        var raw = await AddRawAsync(0, null);
        await raw.TruncateAsync(FileSize * 2);
        Assert.Equal(FileSize * 2, raw.Length);
        Assert.Equal(FileSize * 2, new FileInfo(_path).Length);
        await raw.TruncateAsync(4096);
        Assert.Equal(4096, _file.Length);
    }

    [Theory]
    [InlineData(4096, null)]
    [InlineData(0, 8192)]
    public async Task A_raw_node_with_a_window_cannot_be_resized(long offset, int? size)
    {
        var raw = await AddRawAsync(offset, size);
        await FileNodeIoTests.AssertRefusedAsync(BlockError.NotSupported, () => raw.TruncateAsync(FileSize * 2));
        Assert.Equal(FileSize, new FileInfo(_path).Length);
    }

    private Task<BlockNode> AddRawAsync(long offset, long? size, bool discardUnmap = false) =>
        _graph.AddAsync(new RawBlockdevOptions { NodeName = "raw0", File = BlockdevRef.To("f0"), Offset = offset, Size = size, DiscardUnmap = discardUnmap });
}
