namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    private const ulong RefTableOffsetMask = ~Qcow2Format.RefTableReservedMask;

    private long ClustersPerRefBlock => 1L << _refBlockBits;

    private bool HasRefBlock(long blockIndex) =>
        blockIndex < _refTable.Length && (_refTable[blockIndex] & RefTableOffsetMask) != 0;

    /// <summary>The refcount block with index <paramref name="blockIndex"/>, or null where none is allocated.</summary>
    private async ValueTask<byte[]?> GetRefBlockAsync(long blockIndex, CancellationToken cancellationToken)
    {
        if (!HasRefBlock(blockIndex))
            return null;
        if (_refBlocks[blockIndex] is { } cached)
            return cached;
        var offset = (long)(_refTable[blockIndex] & RefTableOffsetMask);
        if ((offset & ClusterMask) != 0)
            throw Corruption($"refcount block {blockIndex} is not cluster aligned");
        var block = new byte[_clusterSize];
        await _file.ReadAsync(offset, block, cancellationToken).ConfigureAwait(false);
        _refBlocks[blockIndex] = block;
        return block;
    }

    private async ValueTask<ulong> GetRefcountAsync(long cluster, CancellationToken cancellationToken)
    {
        var block = await GetRefBlockAsync(cluster >> _refBlockBits, cancellationToken).ConfigureAwait(false);
        return block is null ? 0 : Qcow2RefcountCodec.Get(block, (int)(cluster & (ClustersPerRefBlock - 1)), _refcountOrder);
    }

    /// <summary>
    /// Adds <paramref name="delta"/> to the refcounts of <paramref name="count"/> clusters from <paramref name="first"/>
    /// and writes the changed entries (or, with lazy refcounts, marks the blocks for write-back). Increments need the
    /// refcount blocks to exist already (<see cref="AllocateClustersAsync"/> sees to that).
    /// </summary>
    private async ValueTask UpdateRefcountsAsync(long first, long count, long delta, CancellationToken cancellationToken)
    {
        if (_lazyRefcounts)
            await MarkDirtyAsync(cancellationToken).ConfigureAwait(false);
        var max = Qcow2RefcountCodec.MaxValue(_refcountOrder);
        var end = first + count;
        var cluster = first;
        while (cluster < end)
        {
            var blockIndex = cluster >> _refBlockBits;
            var blockEnd = Math.Min(end, (blockIndex + 1) << _refBlockBits);
            var block = await GetRefBlockAsync(blockIndex, cancellationToken).ConfigureAwait(false)
                ?? throw Corruption($"cluster {cluster} has no refcount block");
            var index = (int)(cluster & (ClustersPerRefBlock - 1));
            var n = (int)(blockEnd - cluster);
            // Check the whole block's share first, so a bad entry changes nothing.
            for (var i = index; i < index + n; i++)
            {
                var value = Qcow2RefcountCodec.Get(block, i, _refcountOrder);
                if (delta < 0 && value < (ulong)-delta)
                    throw Corruption($"refcount of cluster {(blockIndex << _refBlockBits) + i} would drop below zero");
                if (delta > 0 && max - value < (ulong)delta)
                    throw new BlockException(BlockError.Io, $"qcow2: refcount of cluster {(blockIndex << _refBlockBits) + i} would overflow");
            }
            for (var i = index; i < index + n; i++)
            {
                var value = (ulong)((long)Qcow2RefcountCodec.Get(block, i, _refcountOrder) + delta);
                Qcow2RefcountCodec.Set(block, i, _refcountOrder, value);
                var c = (blockIndex << _refBlockBits) + i;
                if (value == 0 && c < _freeHint)
                    _freeHint = Math.Max(1, c);
                if (value == 0)
                    ForgetFreeBytesIn(c);
            }
            if (_lazyRefcounts)
            {
                _dirtyRefBlocks.Add((int)blockIndex);
            }
            else
            {
                var (start, length) = Qcow2RefcountCodec.ByteRange(index, n, _refcountOrder);
                var offset = (long)(_refTable[blockIndex] & RefTableOffsetMask);
                await _file.WriteAsync(offset + start, block.AsMemory(start, length), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
            }
            cluster = blockEnd;
        }
    }

    /// <summary>
    /// Allocates <paramref name="count"/> contiguous free host clusters (the first run free by the refcounts,
    /// usually the end of the file), raises their refcounts and returns the first one's offset.
    /// </summary>
    private async ValueTask<long> AllocateClustersAsync(int count, CancellationToken cancellationToken)
    {
        long start;
        while (true)
        {
            start = await FindFreeRunAsync(count, cancellationToken).ConfigureAwait(false);
            var missing = -1L;
            for (var b = start >> _refBlockBits; b <= (start + count - 1) >> _refBlockBits; b++)
            {
                if (!HasRefBlock(b))
                {
                    missing = b;
                    break;
                }
            }
            if (missing < 0)
                break;
            // Creating the block takes a cluster, maybe one of those just found: look again afterwards.
            await CreateRefBlockAsync(missing, cancellationToken).ConfigureAwait(false);
        }
        await UpdateRefcountsAsync(start, count, 1, cancellationToken).ConfigureAwait(false);
        if (start == _freeHint)
            _freeHint = start + count;
        return start << _clusterBits;
    }

    /// <summary>
    /// Finds the first run of <paramref name="count"/> clusters with refcount 0 at or after the free hint, and
    /// moves the hint to the first free cluster seen (everything before it is in use).
    /// </summary>
    private async ValueTask<long> FindFreeRunAsync(long count, CancellationToken cancellationToken)
    {
        var cluster = Math.Max(1, _freeHint);
        var runStart = cluster;
        var run = 0L;
        var firstFree = -1L;
        while (true)
        {
            var blockIndex = cluster >> _refBlockBits;
            var blockEnd = (blockIndex + 1) << _refBlockBits;
            var block = await GetRefBlockAsync(blockIndex, cancellationToken).ConfigureAwait(false);
            if (block is null)
            {
                // No refcount block: everything it would describe is free.
                if (run == 0)
                    runStart = cluster;
                if (firstFree < 0)
                    firstFree = cluster;
                run += blockEnd - cluster;
                if (run >= count)
                    break;
                cluster = blockEnd;
                continue;
            }
            var found = false;
            for (; cluster < blockEnd; cluster++)
            {
                if (Qcow2RefcountCodec.Get(block, (int)(cluster & (ClustersPerRefBlock - 1)), _refcountOrder) != 0)
                {
                    run = 0;
                    continue;
                }
                if (firstFree < 0)
                    firstFree = cluster;
                if (run == 0)
                    runStart = cluster;
                if (++run >= count)
                {
                    found = true;
                    break;
                }
            }
            if (found)
                break;
        }
        _freeHint = firstFree;
        return runStart;
    }

    /// <summary>
    /// Creates the refcount block <paramref name="blockIndex"/> in a free cluster: one it describes itself if
    /// possible, else one whose own block exists (which gets the refcount first). Grows the refcount table if
    /// the index lies past its end. The caller retries its allocation afterwards.
    /// </summary>
    private async ValueTask CreateRefBlockAsync(long blockIndex, CancellationToken cancellationToken)
    {
        if (blockIndex >= _refTable.Length)
        {
            await GrowRefcountTableAsync(blockIndex, cancellationToken).ConfigureAwait(false);
            return;
        }
        var cluster = await FindFreeRunAsync(1, cancellationToken).ConfigureAwait(false);
        var ownerIndex = cluster >> _refBlockBits;
        var block = new byte[_clusterSize];
        if (ownerIndex == blockIndex)
        {
            Qcow2RefcountCodec.Set(block, (int)(cluster & (ClustersPerRefBlock - 1)), _refcountOrder, 1);
        }
        else if (HasRefBlock(ownerIndex))
        {
            await UpdateRefcountsAsync(cluster, 1, 1, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await CreateRefBlockAsync(ownerIndex, cancellationToken).ConfigureAwait(false);
            return;
        }
        var offset = cluster << _clusterBits;
        // The block is complete on disk before the table points at it.
        await _file.WriteAsync(offset, block, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        _refBlocks[blockIndex] = block;
        _refTable[blockIndex] = (ulong)offset;
        await WriteEntriesAsync(_header.RefcountTableOffset, _refTable, (int)blockIndex, 1, cancellationToken).ConfigureAwait(false);
        if (cluster == _freeHint)
            _freeHint = cluster + 1;
    }

    /// <summary>Drops one reference to whatever host clusters <paramref name="entries"/> (old L2 entries) point at, merging contiguous runs.</summary>
    private async ValueTask FreeEntriesAsync(List<ulong> entries, bool passDiscard, CancellationToken cancellationToken)
    {
        var runStart = -1L;
        var runLength = 0L;
        foreach (var entry in entries)
        {
            long first, count;
            switch (Qcow2Entry.Classify(entry))
            {
                case Qcow2ClusterKind.Normal:
                case Qcow2ClusterKind.ZeroAlloc:
                    first = Qcow2Entry.HostOffset(entry) >> _clusterBits;
                    count = 1;
                    break;
                case Qcow2ClusterKind.Compressed:
                    var (offset, length) = CompressedExtent(entry);
                    first = offset >> _clusterBits;
                    count = ((offset + length - 1) >> _clusterBits) - first + 1;
                    break;
                default:
                    continue;
            }
            if (runLength > 0 && first == runStart + runLength)
            {
                runLength += count;
                continue;
            }
            await FreeRunAsync(runStart, runLength, passDiscard, cancellationToken).ConfigureAwait(false);
            runStart = first;
            runLength = count;
        }
        await FreeRunAsync(runStart, runLength, passDiscard, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask FreeRunAsync(long first, long count, bool passDiscard, CancellationToken cancellationToken)
    {
        if (count <= 0)
            return;
        await UpdateRefcountsAsync(first, count, -1, cancellationToken).ConfigureAwait(false);
        if (!passDiscard)
            return;
        for (var c = first; c < first + count; c++)
        {
            if (await GetRefcountAsync(c, cancellationToken).ConfigureAwait(false) == 0)
                await _file.DiscardAsync(c << _clusterBits, _clusterSize, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>With lazy refcounts: sets the dirty bit (durably) before the first refcount update is deferred.</summary>
    private async ValueTask MarkDirtyAsync(CancellationToken cancellationToken)
    {
        if ((_header.IncompatibleFeatures & Qcow2Format.IncompatDirty) != 0)
            return;
        _header.IncompatibleFeatures |= Qcow2Format.IncompatDirty;
        await WriteHeaderRangeAsync(72, 80, cancellationToken).ConfigureAwait(false);
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        _dirtyBySelf = true;
    }

    /// <summary>Writes the refcount blocks lazy refcounts left dirty.</summary>
    private async ValueTask WriteBackRefcountsAsync(CancellationToken cancellationToken)
    {
        if (_dirtyRefBlocks.Count == 0)
            return;
        var dirty = _dirtyRefBlocks.ToArray();
        Array.Sort(dirty);
        foreach (var blockIndex in dirty)
        {
            if (_refBlocks[blockIndex] is { } block && HasRefBlock(blockIndex))
                await _file.WriteAsync((long)(_refTable[blockIndex] & RefTableOffsetMask), block, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
            _dirtyRefBlocks.Remove(blockIndex);
        }
    }

    /// <summary>Writes back deferred refcounts, flushes, and clears the dirty bit this node set.</summary>
    private async ValueTask MarkCleanAsync(CancellationToken cancellationToken)
    {
        await WriteBackRefcountsAsync(cancellationToken).ConfigureAwait(false);
        if (!_dirtyBySelf)
            return;
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        _header.IncompatibleFeatures &= ~Qcow2Format.IncompatDirty;
        await WriteHeaderRangeAsync(72, 80, cancellationToken).ConfigureAwait(false);
        _dirtyBySelf = false;
    }
}
