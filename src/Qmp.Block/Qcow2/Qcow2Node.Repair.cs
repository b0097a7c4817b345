namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <summary>Repairs what the analysis found: leaked refcounts, then (mode All) a rebuilt refcount structure, then COPIED flags.</summary>
    private async ValueTask RepairAsync(Qcow2CheckState found, Qcow2RepairMode mode, List<string> messages, CancellationToken cancellationToken)
    {
        var rebuild = mode == Qcow2RepairMode.All && found.NeedsRebuild;
        if (rebuild)
        {
            // A fresh structure from the references fixes leaks and corruptions alike.
            messages.Add("Rebuilding refcount structure");
            await RebuildRefcountsAsync(found, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            foreach (var (cluster, refcount, references) in found.LeakedClusters)
            {
                messages.Add($"Repairing cluster {cluster} refcount={refcount} reference={references}");
                await UpdateRefcountsAsync(cluster, 1, references - (long)refcount, cancellationToken).ConfigureAwait(false);
            }
        }
        // COPIED flags follow the refcounts, so they are only repaired once the refcounts are right.
        if (mode == Qcow2RepairMode.All || !found.NeedsRebuild)
        {
            var log = new Qcow2CheckState(_clusterBits, 0);
            await CheckCopiedAsync(log, repair: true, cancellationToken).ConfigureAwait(false);
            messages.AddRange(log.Messages);
        }
    }

    /// <summary>
    /// Writes a new refcount structure computed from the references into fresh clusters past everything in use
    /// (the old structure stays intact until the header points at the new table), then frees the old one
    /// implicitly: the new refcounts do not count it.
    /// </summary>
    private async ValueTask RebuildRefcountsAsync(Qcow2CheckState found, CancellationToken cancellationToken)
    {
        var references = found.ReferencesWithoutRefcountStructure();
        var perBlock = ClustersPerRefBlock;
        var max = Qcow2RefcountCodec.MaxValue(_refcountOrder);
        var areaStart = found.FileClusters;
        var referencedBlocks = (references.Length + perBlock - 1) / perBlock;
        var hasReferences = new bool[referencedBlocks];
        for (var c = 0L; c < references.Length; c++)
        {
            if (references[c] > 0)
                hasReferences[c / perBlock] = true;
        }

        long blocks = 0, tableClusters = 0;
        while (true)
        {
            var areaEnd = areaStart + blocks + tableClusters;
            var blockCount = (areaEnd + perBlock - 1) / perBlock;
            var needed = 0L;
            for (var b = 0L; b < blockCount; b++)
            {
                if ((b < referencedBlocks && hasReferences[b]) || ((b + 1) * perBlock > areaStart && b * perBlock < areaEnd))
                    needed++;
            }
            var neededTable = Math.Max(1, ((blockCount * 8) + _clusterSize - 1) / _clusterSize);
            if (needed == blocks && neededTable == tableClusters)
                break;
            blocks = needed;
            tableClusters = neededTable;
        }

        var end = areaStart + blocks + tableClusters;
        var table = new ulong[tableClusters * (_clusterSize / 8)];
        var cache = new byte[table.Length][];
        var next = areaStart;
        for (var b = 0L; b * perBlock < end; b++)
        {
            var inArea = (b + 1) * perBlock > areaStart && b * perBlock < end;
            if (!inArea && !(b < referencedBlocks && hasReferences[b]))
                continue;
            var block = new byte[_clusterSize];
            for (var i = 0; i < perBlock; i++)
            {
                var c = (b * perBlock) + i;
                ulong value = c < references.Length ? (ulong)references[c] : 0;
                if (c >= areaStart && c < end)
                    value = 1;
                if (value > 0)
                    Qcow2RefcountCodec.Set(block, i, _refcountOrder, Math.Min(value, max));
            }
            cache[b] = block;
            table[b] = (ulong)(next++ << _clusterBits);
        }
        for (var b = 0; b < cache.Length; b++)
        {
            if (cache[b] is { } block)
                await _file.WriteAsync((long)table[b], block, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        }
        var tableOffset = (areaStart + blocks) << _clusterBits;
        await WriteEntriesAsync(tableOffset, table, 0, table.Length, cancellationToken).ConfigureAwait(false);
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
        _header.RefcountTableOffset = tableOffset;
        _header.RefcountTableClusters = (int)tableClusters;
        await WriteHeaderRangeAsync(48, 60, cancellationToken).ConfigureAwait(false);
        _refTable = table;
        _refBlocks = cache;
        _dirtyRefBlocks.Clear();
        _freeHint = 1;
    }
}
