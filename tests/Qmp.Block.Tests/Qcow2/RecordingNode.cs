namespace Qmp.Block.Tests.Qcow2;

/// <summary>
/// A pass-through protocol node that logs every completed change to its child in completion order, so a test
/// can rebuild the file as a process killed after any number of completed writes would have left it.
/// </summary>
internal sealed class RecordingNode(BlockNode inner) : BlockNode(inner.ReadOnly)
{
    private readonly List<Change> _log = [];

    public enum Kind
    {
        Write,
        Zero,
        Truncate,
    }

    public sealed record Change(Kind Kind, long Offset, long Length, byte[]? Data);

    public override string DriverName => "file";

    public override long Length => inner.Length;

    public override string Filename => inner.Filename;

    protected override bool CanGrow => true;

    public IReadOnlyList<Change> Log
    {
        get
        {
            lock (_log)
                return [.. _log];
        }
    }

    protected override ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        inner.ReadAsync(offset, buffer, cancellationToken);

    protected override async ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        await inner.WriteAsync(offset, data, flags, cancellationToken);
        Add(new Change(Kind.Write, offset, data.Length, data.ToArray()));
    }

    protected override async ValueTask WriteZeroesCoreAsync(long offset, long length, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        await inner.WriteZeroesAsync(offset, length, flags, cancellationToken);
        Add(new Change(Kind.Zero, offset, length, null));
    }

    protected override async ValueTask DiscardCoreAsync(long offset, long length, CancellationToken cancellationToken)
    {
        await inner.DiscardAsync(offset, length, cancellationToken);
        Add(new Change(Kind.Zero, offset, Math.Min(length, Math.Max(0, inner.Length - offset)), null));
    }

    protected override async ValueTask TruncateCoreAsync(long length, CancellationToken cancellationToken)
    {
        await inner.TruncateAsync(length, cancellationToken);
        Add(new Change(Kind.Truncate, 0, length, null));
    }

    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    protected override ValueTask<BlockStatus> GetStatusCoreAsync(long offset, long length, CancellationToken cancellationToken) =>
        inner.GetStatusAsync(offset, length, cancellationToken);

    private void Add(Change change)
    {
        lock (_log)
            _log.Add(change);
    }

    /// <summary>Applies changes to an in-memory file image.</summary>
    public static void Apply(MemoryStream file, Change change)
    {
        switch (change.Kind)
        {
            case Kind.Write:
                if (file.Length < change.Offset)
                    file.SetLength(change.Offset);
                file.Position = change.Offset;
                file.Write(change.Data!);
                break;
            case Kind.Zero:
                var end = change.Offset + change.Length;
                if (file.Length < end)
                    file.SetLength(end);
                file.Position = change.Offset;
                file.Write(new byte[change.Length]);
                break;
            case Kind.Truncate:
                file.SetLength(change.Length);
                break;
        }
    }
}
