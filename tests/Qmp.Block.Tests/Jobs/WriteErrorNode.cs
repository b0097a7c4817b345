namespace Qmp.Block.Tests.Jobs;

/// <summary>A writable filter whose writes and write-zeroes fail (EIO) while <see cref="FailWrites"/> is set; everything else passes to its child.</summary>
internal sealed class WriteErrorNode(BlockNode child) : BlockNode(readOnly: false)
{
    public volatile bool FailWrites;

    public int FailedWrites;

    public override string DriverName => "write-error";

    public override long Length => child.Length;

    protected override ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        child.ReadAsync(offset, buffer, cancellationToken);

    protected override ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken) =>
        Fail() ?? child.WriteAsync(offset, data, flags, cancellationToken);

    protected override ValueTask WriteZeroesCoreAsync(long offset, long length, BlockWriteFlags flags, CancellationToken cancellationToken) =>
        Fail() ?? child.WriteZeroesAsync(offset, length, flags, cancellationToken);

    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken) => child.FlushAsync(cancellationToken);

    protected override ValueTask<BlockStatus> GetStatusCoreAsync(long offset, long length, CancellationToken cancellationToken) =>
        child.GetStatusAsync(offset, length, cancellationToken);

    private ValueTask? Fail()
    {
        if (!FailWrites)
            return null;
        Interlocked.Increment(ref FailedWrites);
        throw new BlockException(BlockError.Io, "Input/output error");
    }
}
