namespace Qmp.Block.Raw;

/// <summary>
/// The <c>raw</c> format driver: the guest sees its file child's bytes as they are, or the window
/// [<c>offset</c>, <c>offset</c> + <c>size</c>) of them (QEMU's raw-format with offset/size).
/// </summary>
public sealed class RawNode : BlockNode
{
    private readonly long _offset;
    private readonly long? _size;
    private readonly BlockNode _file;

    private RawNode(BlockNode file, bool readOnly, long offset, long? size)
        : base(readOnly)
    {
        _file = file;
        _offset = offset;
        _size = size;
    }

    /// <inheritdoc/>
    public override string DriverName => "raw";

    /// <inheritdoc/>
    public override long Length => _size ?? Math.Max(0, _file.Length - _offset);

    /// <summary>Where the window starts in the file.</summary>
    public long Offset => _offset;

    /// <summary>The window's size when the options gave one.</summary>
    public long? Size => _size;

    /// <summary>Opens a raw node over <paramref name="file"/>; QEMU's errors for a window that does not fit.</summary>
    public static RawNode Open(BlockNode file, bool readOnly, long offset = 0, long? size = null)
    {
        if (offset < 0)
            throw new BlockException(BlockError.Invalid, "offset cannot be negative");
        if (size is < 0)
            throw new BlockException(BlockError.Invalid, "size cannot be negative");
        if (offset > file.Length)
            throw new BlockException(BlockError.Invalid, "Offset (" + offset + ") cannot be greater than size of the containing file (" + file.Length + ")");
        if (size is { } s && offset + s > file.Length)
            throw new BlockException(BlockError.Invalid, "The sum of offset (" + offset + ") and size (" + s + ") has to be smaller or equal to the  actual size of the containing file (" + file.Length + ")");
        // QEMU (raw_apply_options): a window must not end inside a sector, or requests rounded to sectors would leak out of it.
        if (size is { } sized && sized % 512 != 0)
            throw new BlockException(BlockError.Invalid, "Specified size is not multiple of 512");
        return new RawNode(file, readOnly, offset, size);
    }

    /// <inheritdoc/>
    protected override ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        _file.ReadAsync(_offset + offset, buffer, cancellationToken);

    /// <inheritdoc/>
    protected override ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken) =>
        _file.WriteAsync(_offset + offset, data, flags, cancellationToken);

    /// <inheritdoc/>
    protected override ValueTask WriteZeroesCoreAsync(long offset, long length, BlockWriteFlags flags, CancellationToken cancellationToken) =>
        _file.WriteZeroesAsync(_offset + offset, length, flags, cancellationToken);

    /// <inheritdoc/>
    protected override ValueTask DiscardCoreAsync(long offset, long length, CancellationToken cancellationToken) =>
        _file.DiscardAsync(_offset + offset, length, cancellationToken);

    /// <inheritdoc/>
    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken) => _file.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    protected override async ValueTask TruncateCoreAsync(long length, CancellationToken cancellationToken)
    {
        // QEMU refuses to resize a window: the file's other bytes are not ours.
        if (_offset != 0 || _size is not null)
            throw new BlockException(BlockError.NotSupported, "Cannot resize a raw node with offset or size");
        await _file.TruncateAsync(length, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async ValueTask<BlockStatus> GetStatusCoreAsync(long offset, long length, CancellationToken cancellationToken)
    {
        return await _file.GetStatusAsync(_offset + offset, length, cancellationToken).ConfigureAwait(false);
    }
}
