namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <inheritdoc/>
    protected override async ValueTask TruncateCoreAsync(long length, CancellationToken cancellationToken)
    {
        using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
            await ResizeLockedAsync(length, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Changes the virtual size. Growing makes the new range read as zeroes (the old last cluster's tail and whatever
    /// a longer backing file would show there are zeroed); shrinking deallocates every cluster past the new end.
    /// </summary>
    private async ValueTask ResizeLockedAsync(long length, CancellationToken cancellationToken)
    {
        if (length % 512 != 0)
            throw new BlockException(BlockError.Invalid, "The new size must be a multiple of 512");
        if (_snapshots.Count > 0)
            throw new BlockException(BlockError.NotSupported, "Can't resize an image which has snapshots");
        var oldSize = Length;
        if (length == oldSize)
            return;
        if (length < oldSize)
        {
            await DeallocateFromAsync((length + ClusterMask) & ~ClusterMask, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var entries = (length + ((long)_clusterSize << _l2Bits) - 1) >> (_clusterBits + _l2Bits);
            if (entries > _l1.Length)
                await GrowL1Async(entries, cancellationToken).ConfigureAwait(false);
            // Stale bytes past the old end of its last cluster, and a longer backing file, must not show through.
            var zeroEnd = Math.Min(length, Math.Max((oldSize + ClusterMask) & ~ClusterMask, Backing?.Length ?? 0));
            if (zeroEnd > oldSize)
                await ZeroLockedAsync(oldSize, zeroEnd - oldSize, discard: false, unmap: true, cancellationToken).ConfigureAwait(false);
        }
        _header.Size = length;
        await WriteHeaderRangeAsync(24, 32, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _size, length);
    }

    /// <summary>Moves the L1 table to new clusters with room for <paramref name="entries"/>; the header switches once it is written.</summary>
    private async ValueTask GrowL1Async(long entries, CancellationToken cancellationToken)
    {
        if (entries * 8 > Qcow2Format.MaxL1Bytes)
            throw new BlockException(BlockError.Invalid, "Failed to grow the L1 table: File too large");
        var clusters = (int)SizeToClusters(entries * 8);
        var offset = await AllocateClustersAsync(clusters, cancellationToken).ConfigureAwait(false);
        var table = new ulong[entries];
        _l1.CopyTo(table, 0);
        await WriteEntriesAsync(offset, table, 0, table.Length, cancellationToken).ConfigureAwait(false);
        var (oldOffset, oldSize) = (_header.L1TableOffset, _l1.Length);
        _header.L1TableOffset = offset;
        _header.L1Size = (int)entries;
        await WriteHeaderRangeAsync(36, 48, cancellationToken).ConfigureAwait(false);
        _l1 = table;
        if (oldSize > 0 && oldOffset != 0)
            await UpdateRefcountsAsync(oldOffset >> _clusterBits, SizeToClusters((long)oldSize * 8), -1, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Shrinking: every cluster from <paramref name="from"/> on is deallocated, and L2 tables wholly past it are
    /// unhooked from the L1 table and freed (pointers go first, refcounts after).
    /// </summary>
    private async ValueTask DeallocateFromAsync(long from, CancellationToken cancellationToken)
    {
        for (var l1Index = L1Index(from); l1Index < _l1.Length; l1Index++)
        {
            var offset = Qcow2Entry.HostOffset(_l1[l1Index]);
            if (offset == 0)
                continue;
            var start = Math.Max(from, L1Start(l1Index));
            var freed = new List<ulong>();
            if (start == L1Start(l1Index))
            {
                var table = (await LoadL2Async(offset, cancellationToken).ConfigureAwait(false))!;
                var shared = !Qcow2Entry.IsCopied(_l1[l1Index]);
                _l1[l1Index] = 0;
                await WriteL1EntryAsync(l1Index, cancellationToken).ConfigureAwait(false);
                // A table shared with another user keeps its clusters; only our reference to the table goes.
                if (!shared)
                    freed.AddRange(table);
                _l2Cache.Remove(offset);
                await FreeEntriesAsync(freed, false, cancellationToken).ConfigureAwait(false);
                await UpdateRefcountsAsync(offset >> _clusterBits, 1, -1, cancellationToken).ConfigureAwait(false);
                continue;
            }
            var (tableOffset, current) = await GetL2ForWriteAsync(l1Index, cancellationToken).ConfigureAwait(false);
            var first = L2Index(start);
            for (var i = first; i < current.Length; i++)
            {
                freed.Add(current[i]);
                current[i] = 0;
            }
            await WriteEntriesAsync(tableOffset, current, first, current.Length - first, cancellationToken).ConfigureAwait(false);
            await FreeEntriesAsync(freed, false, cancellationToken).ConfigureAwait(false);
        }
    }
}
