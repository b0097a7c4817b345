namespace Qmp.Block.Tests.Jobs;

/// <summary>A filter whose reads fail (EIO) while <see cref="FailReads"/> is set; everything else passes to its child.</summary>
internal sealed class ReadErrorNode(BlockNode child) : BlockNode(readOnly: true)
{
    public volatile bool FailReads;

    public override string DriverName => "read-error";

    public override long Length => child.Length;

    protected override ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        FailReads ? throw new BlockException(BlockError.Io, "Input/output error") : child.ReadAsync(offset, buffer, cancellationToken);

    protected override ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken) =>
        throw new BlockException(BlockError.Permission, "read-only");

    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    protected override ValueTask<BlockStatus> GetStatusCoreAsync(long offset, long length, CancellationToken cancellationToken) =>
        child.GetStatusAsync(offset, length, cancellationToken);
}
