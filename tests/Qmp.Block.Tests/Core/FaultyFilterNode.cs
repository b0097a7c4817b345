namespace Qmp.Block.Tests.Core;

/// <summary>A pass-through node over a child whose inactivation fails while <see cref="FailInactivations"/> is above zero.</summary>
internal sealed class FaultyFilterNode : BlockNode
{
    public const string InjectedMessage = "injected inactivation failure";

    private readonly BlockNode _child;

    public FaultyFilterNode(BlockNode child)
        : base(child.ReadOnly) => _child = child;

    /// <summary>How many of the next inactivations fail.</summary>
    public int FailInactivations { get; set; }

    public int InactivateCalls { get; private set; }

    public override string DriverName => "faulty";

    public override long Length => _child.Length;

    protected override ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        _child.ReadAsync(offset, buffer, cancellationToken);

    protected override ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken) =>
        _child.WriteAsync(offset, data, flags, cancellationToken);

    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken) => _child.FlushAsync(cancellationToken);

    protected override async ValueTask InactivateCoreAsync(CancellationToken cancellationToken)
    {
        InactivateCalls++;
        if (FailInactivations > 0)
        {
            FailInactivations--;
            throw new BlockException(BlockError.Io, InjectedMessage);
        }
        await base.InactivateCoreAsync(cancellationToken);
    }
}
