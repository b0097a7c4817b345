using Qmp.Block.Options;

namespace Qmp.Block.Tests.Core;

/// <summary>Write notifiers: what mirror's dirty tracking and backup's copy-before-write hang on.</summary>
public sealed class WriteNotifierTests : IAsyncLifetime
{
    private const int FileSize = 65536;

    private readonly TempDirectory _dir = new();
    private readonly BlockGraph _graph = new();
    private byte[] _contents = [];
    private BlockNode _node = null!;

    public async Task InitializeAsync()
    {
        _contents = TempDirectory.Pattern(FileSize, 40);
        var path = _dir.CreateFile("disk.img", _contents);
        await _graph.AddAsync(new FileBlockdevOptions { NodeName = "f0", Filename = path, DiscardUnmap = true });
        _node = await _graph.AddAsync(new RawBlockdevOptions { NodeName = "r0", File = BlockdevRef.To("f0"), DiscardUnmap = true });
    }

    public async Task DisposeAsync()
    {
        await _graph.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Before_sees_old_data_and_after_sees_new_data_for_every_kind_of_change()
    {
        var notifier = new Recorder(_node);
        _node.AddWriteNotifier(notifier);

        var data = TempDirectory.Pattern(4096, 41);
        await _node.WriteAsync(8192, data);
        await _node.WriteZeroesAsync(0, 512);
        await _node.DiscardAsync(16384, 4096);

        Assert.Equal(
            ["before Write 8192+4096", "after Write 8192+4096 ok", "before WriteZeroes 0+512", "after WriteZeroes 0+512 ok",
             "before Discard 16384+4096", "after Discard 16384+4096 ok"],
            notifier.Log);
        Assert.Equal(_contents[8192..12288], notifier.OldData[0]);
        Assert.Equal(data, notifier.NewData[0]);
        Assert.Equal(data, notifier.Payloads[0]);
    }

    [Fact]
    public async Task A_refusing_notifier_fails_the_write_before_anything_changes()
    {
        _node.AddWriteNotifier(new Refuser());

        var e = await Assert.ThrowsAsync<BlockException>(() => _node.WriteAsync(0, new byte[512]).AsTask());
        Assert.Equal("refused", e.Message);
        var back = new byte[512];
        await _node.ReadAsync(0, back);
        Assert.Equal(_contents[..512], back);
        Assert.Equal(0, _node.InFlight);
    }

    [Fact]
    public async Task A_removed_notifier_hears_nothing_more()
    {
        var notifier = new Recorder(_node);
        _node.AddWriteNotifier(notifier);
        _node.AddWriteNotifier(notifier);
        await _node.WriteAsync(0, new byte[512]);
        _node.RemoveWriteNotifier(notifier);
        Assert.False(_node.HasWriteNotifiers);
        await _node.WriteAsync(0, new byte[512]);

        Assert.Equal(2, notifier.Log.Count);
    }

    [Fact]
    public async Task A_write_counts_as_in_flight_while_its_notifier_runs()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _node.AddWriteNotifier(new Holder(entered, gate.Task));

        var write = _node.WriteAsync(0, new byte[512]).AsTask();
        await entered.Task;
        Assert.Equal(1, _node.InFlight);
        Assert.False(write.IsCompleted);
        gate.SetResult();
        await write;
        Assert.Equal(0, _node.InFlight);
    }

    private sealed class Recorder(BlockNode node) : IBlockWriteNotifier
    {
        public List<string> Log { get; } = [];

        public List<byte[]> OldData { get; } = [];

        public List<byte[]> NewData { get; } = [];

        public List<byte[]> Payloads { get; } = [];

        public async ValueTask BeforeWriteAsync(BlockNode target, BlockWriteRequest request, CancellationToken cancellationToken)
        {
            Assert.Same(node, target);
            Log.Add($"before {request.Kind} {request.Offset}+{request.Length}");
            if (request.Kind != BlockWriteKind.Write)
                return;
            var old = new byte[request.Length];
            await target.ReadAsync(request.Offset, old, cancellationToken);
            OldData.Add(old);
            Payloads.Add(request.Data.ToArray());
        }

        public async ValueTask AfterWriteAsync(BlockNode target, BlockWriteRequest request, bool succeeded, CancellationToken cancellationToken)
        {
            Log.Add($"after {request.Kind} {request.Offset}+{request.Length} {(succeeded ? "ok" : "failed")}");
            if (request.Kind != BlockWriteKind.Write)
                return;
            var now = new byte[request.Length];
            await target.ReadAsync(request.Offset, now, cancellationToken);
            NewData.Add(now);
        }
    }

    private sealed class Refuser : IBlockWriteNotifier
    {
        public ValueTask BeforeWriteAsync(BlockNode node, BlockWriteRequest request, CancellationToken cancellationToken) =>
            throw new BlockException(BlockError.Permission, "refused");

        public ValueTask AfterWriteAsync(BlockNode node, BlockWriteRequest request, bool succeeded, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("after must not run when before refused");
    }

    private sealed class Holder(TaskCompletionSource entered, Task gate) : IBlockWriteNotifier
    {
        public async ValueTask BeforeWriteAsync(BlockNode node, BlockWriteRequest request, CancellationToken cancellationToken)
        {
            entered.TrySetResult();
            await gate;
        }

        public ValueTask AfterWriteAsync(BlockNode node, BlockWriteRequest request, bool succeeded, CancellationToken cancellationToken) =>
            ValueTask.CompletedTask;
    }
}
