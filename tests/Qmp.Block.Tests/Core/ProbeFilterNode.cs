namespace Qmp.Block.Tests.Core;

/// <summary>
/// A pass-through node over a child that records every request reaching its driver while
/// <see cref="Watching"/> is set: a test sets it once a drained section has begun, so any request the
/// section let through shows up in <see cref="Violations"/>.
/// </summary>
internal sealed class ProbeFilterNode : BlockNode
{
    private readonly BlockNode _child;
    private int _violations;

    public ProbeFilterNode(BlockNode child, string name)
        : base(child.ReadOnly)
    {
        _child = child;
        NodeName = name;
        AddChild("file", child);
    }

    public volatile bool Watching;

    public int Violations => Volatile.Read(ref _violations);

    public override string DriverName => "probe";

    public override long Length => _child.Length;

    protected override ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Check();
        return _child.ReadAsync(offset, buffer, cancellationToken);
    }

    protected override ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        Check();
        return _child.WriteAsync(offset, data, flags, cancellationToken);
    }

    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken) => _child.FlushAsync(cancellationToken);

    private void Check()
    {
        if (Watching)
            Interlocked.Increment(ref _violations);
    }
}
