namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <inheritdoc/>
    /// <remarks>
    /// One run of clusters of the same kind (data runs with contiguous host offsets): data is
    /// Data|Allocated|OffsetValid, a zero cluster Zero|Allocated (with OffsetValid when preallocated),
    /// compressed data Data|Allocated, and unallocated clusters None, for the caller to ask the backing chain.
    /// </remarks>
    protected override async ValueTask<BlockStatus> GetStatusCoreAsync(long offset, long length, CancellationToken cancellationToken)
    {
        using (await _lock.EnterReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var l1Index = L1Index(offset);
            var table = await GetL2TableAsync(l1Index, cancellationToken).ConfigureAwait(false);
            var index = L2Index(offset);
            var entry = table is null ? 0 : table[index];
            var kind = Qcow2Entry.Classify(entry);
            var host = Qcow2Entry.HostOffset(entry);
            var run = Math.Min(length, _clusterSize - (offset & ClusterMask));
            var next = index + 1;
            var expected = host + _clusterSize;
            while (run < length)
            {
                if (next == _l2Entries)
                {
                    // Runs may continue into the next L2 table (or the next missing one).
                    table = await GetL2TableAsync(++l1Index, cancellationToken).ConfigureAwait(false);
                    next = 0;
                }
                if (table is null && kind == Qcow2ClusterKind.Unallocated)
                {
                    // No L2 table: the rest of its range is unallocated in one go.
                    run = Math.Min(length, run + ((long)(_l2Entries - next) << _clusterBits));
                    next = _l2Entries;
                    continue;
                }
                var e = table is null ? 0 : table[next];
                if (Qcow2Entry.Classify(e) != kind)
                    break;
                if (kind is Qcow2ClusterKind.Normal or Qcow2ClusterKind.ZeroAlloc)
                {
                    if (Qcow2Entry.HostOffset(e) != expected)
                        break;
                    expected += _clusterSize;
                }
                run = Math.Min(length, run + _clusterSize);
                next++;
            }
            var hostOffset = host + (offset & ClusterMask);
            return kind switch
            {
                Qcow2ClusterKind.Normal => new BlockStatus(run, BlockStatusFlags.Data | BlockStatusFlags.Allocated | BlockStatusFlags.OffsetValid, hostOffset),
                Qcow2ClusterKind.ZeroAlloc => new BlockStatus(run, BlockStatusFlags.Zero | BlockStatusFlags.Allocated | BlockStatusFlags.OffsetValid, hostOffset),
                Qcow2ClusterKind.ZeroPlain => new BlockStatus(run, BlockStatusFlags.Zero | BlockStatusFlags.Allocated),
                Qcow2ClusterKind.Compressed => new BlockStatus(run, BlockStatusFlags.Data | BlockStatusFlags.Allocated),
                _ => new BlockStatus(run, BlockStatusFlags.None),
            };
        }
    }
}
