namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <inheritdoc/>
    protected override async ValueTask FlushCoreAsync(CancellationToken cancellationToken)
    {
        if (_lazyRefcounts)
        {
            // Lazy refcounts: write the deferred blocks back, then the image is clean again.
            using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
                await MarkCleanAsync(CancellationToken.None).ConfigureAwait(false);
        }
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async ValueTask InactivateCoreAsync(CancellationToken cancellationToken)
    {
        using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!ReadOnly)
            {
                await MarkCleanAsync(CancellationToken.None).ConfigureAwait(false);
                await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            // Another process may change the image while we are inactive: nothing cached survives.
            _l2Cache.Clear();
            Array.Clear(_refBlocks);
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask ActivateCoreAsync(CancellationToken cancellationToken)
    {
        using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
        {
            await LoadMetadataAsync(cancellationToken).ConfigureAwait(false);
            if (!ReadOnly)
                await PrepareWritableAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask ReopenCoreAsync(bool readOnly, CancellationToken cancellationToken)
    {
        using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
        {
            if (readOnly)
            {
                // What lazy refcounts deferred is written back while the file is still writable.
                await MarkCleanAsync(CancellationToken.None).ConfigureAwait(false);
                await _file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                return;
            }
            if ((_header.IncompatibleFeatures & Qcow2Format.IncompatCorrupt) != 0 && !_options.OpenForRepair)
                throw new BlockException(BlockError.Permission, "qcow2: Image is corrupt; cannot be opened read/write");
            // Nobody else could write while we held the image read-only, so the cached metadata is current.
            await PrepareWritableAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask CloseCoreAsync()
    {
        if (ReadOnly || Activation != BlockActivation.Active)
            return;
        try
        {
            using (await _lock.EnterWriteAsync(CancellationToken.None).ConfigureAwait(false))
            {
                await MarkCleanAsync(CancellationToken.None).ConfigureAwait(false);
                await _file.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Closing must not fail; whatever could not be written leaves the dirty bit for the next open to repair.
        }
    }

    /// <summary>
    /// Rewrites the header's backing file name and backing format extension (what <c>qemu-img rebase -u</c> does);
    /// null <paramref name="backingFile"/> removes the backing file. The attached backing node is not changed.
    /// </summary>
    public async Task ChangeBackingFileAsync(string? backingFile, string? backingFormat, CancellationToken cancellationToken = default)
    {
        if (!Writable)
            throw new BlockException(BlockError.Permission, $"Node '{NodeName}' is read-only");
        if (backingFile is null && backingFormat is not null)
            throw new BlockException(BlockError.Invalid, "Backing format cannot be used without backing file");
        if (backingFile is not null && System.Text.Encoding.UTF8.GetByteCount(backingFile) > Qcow2Format.MaxBackingFileNameLength)
            throw new BlockException(BlockError.Invalid, "Backing file name too long");
        if (backingFormat is not null && backingFormat.Length > Qcow2Format.MaxBackingFormatLength)
            throw new BlockException(BlockError.Invalid, $"Backing format name too long: '{backingFormat}'");
        using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
        {
            var (oldName, oldFormat) = (_header.BackingFileName, _header.BackingFormat);
            var (oldOffset, oldSize) = (_header.BackingFileOffset, _header.BackingFileSize);
            _header.BackingFileName = backingFile;
            _header.BackingFormat = backingFormat;
            try
            {
                var cluster0 = _header.Serialize();
                await _file.WriteAsync(0, cluster0, BlockWriteFlags.None, CancellationToken.None).ConfigureAwait(false);
            }
            catch
            {
                (_header.BackingFileName, _header.BackingFormat) = (oldName, oldFormat);
                (_header.BackingFileOffset, _header.BackingFileSize) = (oldOffset, oldSize);
                throw;
            }
        }
    }
}
