namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <summary>
    /// Replaces the refcount table with a larger one covering <paramref name="neededIndex"/>, as QEMU does: a new
    /// area past everything in use holds the refcount blocks that describe the area itself and then the new table.
    /// Everything is written before the header switches to the new table; the old table is freed afterwards, so a
    /// kill at any point leaves the old structure intact or merely leaks.
    /// </summary>
    private async ValueTask GrowRefcountTableAsync(long neededIndex, CancellationToken cancellationToken)
    {
        var entriesPerCluster = _clusterSize / 8;
        var oldEntries = _refTable.Length;
        var areaStart = Math.Max(SizeToClusters(_file.Length), await HighestUsedClusterAsync(cancellationToken).ConfigureAwait(false) + 1);
        var entries = Math.Max(neededIndex + 1, oldEntries + (oldEntries / 2));
        long blocks = 0, tableClusters;
        while (true)
        {
            tableClusters = ((entries * 8) + _clusterSize - 1) / _clusterSize;
            var areaEnd = areaStart + blocks + tableClusters;
            var lastBlock = (areaEnd - 1) >> _refBlockBits;
            if (lastBlock >= entries)
            {
                entries = lastBlock + 1;
                continue;
            }
            var needed = 0L;
            for (var b = areaStart >> _refBlockBits; b <= lastBlock; b++)
            {
                if (!HasRefBlock(b))
                    needed++;
            }
            if (needed == blocks)
                break;
            blocks = needed;
        }
        if (tableClusters * _clusterSize > Qcow2Format.MaxRefcountTableBytes)
            throw new BlockException(BlockError.NoSpace, "qcow2: the refcount table would exceed its maximum size");

        var table = new ulong[tableClusters * entriesPerCluster];
        _refTable.CopyTo(table, 0);
        var newBlocks = new Dictionary<long, byte[]>();
        var next = areaStart;
        var end = areaStart + blocks + tableClusters;
        for (var b = areaStart >> _refBlockBits; b <= (end - 1) >> _refBlockBits; b++)
        {
            if (HasRefBlock(b))
                continue;
            newBlocks[b] = new byte[_clusterSize];
            table[b] = (ulong)(next++ << _clusterBits);
        }
        for (var c = areaStart; c < end; c++)
        {
            if (newBlocks.TryGetValue(c >> _refBlockBits, out var block))
                Qcow2RefcountCodec.Set(block, (int)(c & (ClustersPerRefBlock - 1)), _refcountOrder, 1);
        }
        foreach (var (b, block) in newBlocks)
            await _file.WriteAsync((long)table[b], block, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        // Area clusters that existing blocks describe are counted there.
        for (var c = areaStart; c < end;)
        {
            var b = c >> _refBlockBits;
            var blockEnd = Math.Min(end, (b + 1) << _refBlockBits);
            if (!newBlocks.ContainsKey(b))
                await UpdateRefcountsAsync(c, blockEnd - c, 1, cancellationToken).ConfigureAwait(false);
            c = blockEnd;
        }
        var tableOffset = (areaStart + blocks) << _clusterBits;
        var oldOffset = _header.RefcountTableOffset;
        var oldClusters = _header.RefcountTableClusters;
        await WriteEntriesAsync(tableOffset, table, 0, table.Length, cancellationToken).ConfigureAwait(false);

        _header.RefcountTableOffset = tableOffset;
        _header.RefcountTableClusters = (int)tableClusters;
        await WriteHeaderRangeAsync(48, 60, cancellationToken).ConfigureAwait(false);
        var blockCache = new byte[table.Length][];
        _refBlocks.CopyTo(blockCache, 0);
        foreach (var (b, block) in newBlocks)
            blockCache[b] = block;
        _refTable = table;
        _refBlocks = blockCache;
        await UpdateRefcountsAsync(oldOffset >> _clusterBits, oldClusters, -1, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The highest cluster with a nonzero refcount (0 if none).</summary>
    private async ValueTask<long> HighestUsedClusterAsync(CancellationToken cancellationToken)
    {
        for (var b = (long)_refTable.Length - 1; b >= 0; b--)
        {
            var block = await GetRefBlockAsync(b, cancellationToken).ConfigureAwait(false);
            if (block is null)
                continue;
            for (var i = (int)ClustersPerRefBlock - 1; i >= 0; i--)
            {
                if (Qcow2RefcountCodec.Get(block, i, _refcountOrder) != 0)
                    return (b << _refBlockBits) + i;
            }
        }
        return 0;
    }
}
