namespace Qmp.Block.Tests.Jobs;

/// <summary>A writable filter whose writes wait at a gate until <see cref="Open"/>; it tells when the first write arrived.</summary>
internal sealed class GatedWriteNode(BlockNode child) : BlockNode(readOnly: false)
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task FirstWriteArrived => _arrived.Task;

    public override string DriverName => "gated-write";

    public override long Length => child.Length;

    public void Open() => _gate.TrySetResult();

    protected override ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        child.ReadAsync(offset, buffer, cancellationToken);

    protected override async ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        await PassGateAsync().ConfigureAwait(false);
        await child.WriteAsync(offset, data, flags, cancellationToken).ConfigureAwait(false);
    }

    protected override async ValueTask WriteZeroesCoreAsync(long offset, long length, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        await PassGateAsync().ConfigureAwait(false);
        await child.WriteZeroesAsync(offset, length, flags, cancellationToken).ConfigureAwait(false);
    }

    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken) => child.FlushAsync(cancellationToken);

    protected override ValueTask<BlockStatus> GetStatusCoreAsync(long offset, long length, CancellationToken cancellationToken) =>
        child.GetStatusAsync(offset, length, cancellationToken);

    private Task PassGateAsync()
    {
        _arrived.TrySetResult();
        return _gate.Task;
    }
}
