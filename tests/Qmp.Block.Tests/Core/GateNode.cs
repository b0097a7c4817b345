namespace Qmp.Block.Tests.Core;

/// <summary>
/// An in-memory node whose requests, while <see cref="Holding"/>, wait for <see cref="Release"/>: it
/// keeps requests in flight for exactly as long as a test wants.
/// </summary>
internal sealed class GateNode : BlockNode
{
    private readonly byte[] _data;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _entries;
    private int _flushes;

    public GateNode(int length, string name = "gate")
        : base(readOnly: false)
    {
        _data = new byte[length];
        NodeName = name;
    }

    /// <summary>Whether requests wait for <see cref="Release"/> (once released, they no longer wait).</summary>
    public bool Holding { get; set; } = true;

    /// <summary>Completes when the first request reached the driver.</summary>
    public Task FirstEntered => _entered.Task;

    /// <summary>How many requests reached the driver.</summary>
    public int Entries => Volatile.Read(ref _entries);

    /// <summary>How many flushes reached the driver.</summary>
    public int Flushes => Volatile.Read(ref _flushes);

    public override string DriverName => "gate";

    public override long Length => _data.Length;

    public void Release() => _release.TrySetResult();

    protected override async ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await PassAsync();
        _data.AsMemory((int)offset, buffer.Length).CopyTo(buffer);
    }

    protected override async ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        await PassAsync();
        data.CopyTo(_data.AsMemory((int)offset));
    }

    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _flushes);
        return ValueTask.CompletedTask;
    }

    private async Task PassAsync()
    {
        Interlocked.Increment(ref _entries);
        _entered.TrySetResult();
        if (Holding)
            await _release.Task;
    }
}
