using Qmp.Block.File;
using Qmp.Block.Options;

namespace Qmp.Block.Tests.Core;

/// <summary>cache.direct=on (O_DIRECT): requests of any alignment give the same bytes as the page cache does.</summary>
public sealed class DirectIoTests : IAsyncLifetime
{
    private const int Size = 5 * 4096 + 1000;

    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private byte[] _model = [];
    private string _directPath = "";
    private string _bufferedPath = "";
    private FileNode _direct = null!;
    private FileNode _buffered = null!;

    public async Task InitializeAsync()
    {
        _model = TempDirectory.Pattern(Size, 20);
        _directPath = _dir.CreateFile("direct.img", _model);
        _bufferedPath = _dir.CreateFile("buffered.img", _model);
        try
        {
            _direct = Assert.IsType<FileNode>(await _graph.AddAsync(new FileBlockdevOptions { NodeName = "direct", Filename = _directPath, CacheDirect = true }));
        }
        catch (BlockException e) when (e.Message.EndsWith("Invalid argument", StringComparison.Ordinal))
        {
            Assert.Fail($"O_DIRECT open failed with EINVAL on {_dir.Root}: these tests need a filesystem that supports O_DIRECT (not tmpfs) under /var/tmp ({e.Message})");
        }
        _buffered = Assert.IsType<FileNode>(await _graph.AddAsync(new FileBlockdevOptions { NodeName = "buffered", Filename = _bufferedPath }));
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public void The_node_bypasses_the_page_cache()
    {
        Assert.True(_direct.Direct);
        Assert.False(_buffered.Direct);
    }

    [Theory]
    [InlineData(0, 4096)]
    [InlineData(4096, 8192)]
    [InlineData(1, 1)]
    [InlineData(511, 513)]
    [InlineData(4095, 4098)]
    [InlineData(3 * 4096 + 17, 5000)]
    [InlineData(4 * 4096, 4096)]
    [InlineData(4 * 4096, 8192)]
    [InlineData(5 * 4096, 1000)]
    [InlineData(5 * 4096 + 999, 2)]
    [InlineData(Size - 10, 10000)]
    [InlineData(Size + 100, 300)]
    [InlineData(8 * 4096, 4096)]
    public async Task Reads_of_any_alignment_match_buffered_reads(long offset, int length)
    {
        var direct = new byte[length];
        var buffered = new byte[length];
        await _direct.ReadAsync(offset, direct);
        await _buffered.ReadAsync(offset, buffered);
        Assert.Equal(buffered, direct);
        Assert.Equal(Expected(offset, length), direct);
    }

    [Fact]
    public async Task Writes_of_any_alignment_leave_the_same_file_as_buffered_writes()
    {
        var random = new Random(21);
        (long Offset, int Length)[] writes =
        [
            (0, 4096), (1, 100), (4095, 2), (4096 + 512, 512), (5000, 9000), (3 * 4096, 8192),
            (Size - 50, 50), (Size - 10, 30), (Size + 20 + 5000, 7), (10 * 4096, 4096),
        ];
        foreach (var (offset, length) in writes)
        {
            var data = new byte[length];
            random.NextBytes(data);
            await _direct.WriteAsync(offset, data);
            await _buffered.WriteAsync(offset, data);
            if (offset + length > _model.Length)
                Array.Resize(ref _model, (int)(offset + length));
            data.CopyTo(_model, offset);
            Assert.Equal(_model.Length, _direct.Length);
            Assert.Equal(_model.Length, _buffered.Length);

            var back = new byte[length + 200];
            var start = Math.Max(0, offset - 100);
            await _direct.ReadAsync(start, back);
            Assert.Equal(Expected(start, back.Length), back);
        }
        await _direct.FlushAsync();
        await _buffered.FlushAsync();
        Assert.Equal(_model, System.IO.File.ReadAllBytes(_bufferedPath));
        Assert.Equal(_model, System.IO.File.ReadAllBytes(_directPath));
    }

    [Fact]
    public async Task Aligned_requests_from_aligned_memory_go_straight_to_the_file()
    {
        using var aligned = new AlignedBuffer(8192, FileNode.DirectAlignment);
        await _direct.ReadAsync(4096, aligned.Memory);
        Assert.Equal(Expected(4096, 8192), aligned.Memory.ToArray());

        TempDirectory.Pattern(8192, 22).CopyTo(aligned.Memory);
        await _direct.WriteAsync(8192, aligned.Memory);
        aligned.Memory.Span.CopyTo(_model.AsSpan(8192));
        Assert.Equal(Size, _direct.Length);
        aligned.Memory.Span.Clear();
        await _direct.ReadAsync(8192, aligned.Memory);
        Assert.Equal(Expected(8192, 8192), aligned.Memory.ToArray());
        Assert.Equal(_model, System.IO.File.ReadAllBytes(_directPath));
    }

    [Fact]
    public async Task Concurrent_unaligned_writes_to_one_block_do_not_lose_each_other()
    {
        var writes = Enumerable.Range(0, 64).Select(i => _direct.WriteAsync(i * 64 + 7, Enumerable.Repeat((byte)(i + 1), 50).ToArray()).AsTask());
        await Task.WhenAll(writes);
        var back = new byte[4096];
        await _direct.ReadAsync(0, back);
        for (var i = 0; i < 64; i++)
            Assert.All(back.AsSpan(i * 64 + 7, 50).ToArray(), b => Assert.Equal(i + 1, b));
    }

    [Fact]
    public async Task Zeroes_and_truncation_work_with_direct_io()
    {
        await _direct.WriteZeroesAsync(100, 5000);
        Array.Clear(_model, 100, 5000);
        await _direct.TruncateAsync(Size - 333);
        Array.Resize(ref _model, Size - 333);
        var back = new byte[Size];
        await _direct.ReadAsync(0, back);
        Assert.Equal(Expected(0, Size), back);
    }

    private byte[] Expected(long offset, int length)
    {
        var expected = new byte[length];
        if (offset < _model.Length)
            _model.AsSpan((int)offset, (int)Math.Min(length, _model.Length - offset)).CopyTo(expected);
        return expected;
    }
}
