namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <inheritdoc/>
    protected override async ValueTask WriteZeroesCoreAsync(long offset, long length, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        if (length > 0)
        {
            using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
                await ZeroLockedAsync(offset, length, discard: false, unmap: (flags & BlockWriteFlags.MayUnmap) != 0, CancellationToken.None).ConfigureAwait(false);
        }
        if ((flags & BlockWriteFlags.Fua) != 0)
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async ValueTask DiscardCoreAsync(long offset, long length, CancellationToken cancellationToken)
    {
        if (length == 0)
            return;
        using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
            await ZeroLockedAsync(offset, length, discard: true, unmap: true, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Zeroes or discards a range: whole clusters through L2 entries (zero flag on v3, deallocation where
    /// nothing shows through), partial clusters of a write-zeroes as plain zero writes (a discard ignores them).
    /// </summary>
    private async ValueTask ZeroLockedAsync(long offset, long length, bool discard, bool unmap, CancellationToken cancellationToken)
    {
        var end = offset + length;
        var alignedStart = (offset + ClusterMask) & ~ClusterMask;
        // A request reaching the end of the disk covers its last, partial cluster whole.
        var alignedEnd = end == Length ? (end + ClusterMask) & ~ClusterMask : end & ~ClusterMask;
        if (alignedStart >= alignedEnd)
        {
            if (!discard)
                await ZeroPartialAsync(offset, end, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (offset < alignedStart && !discard)
            await ZeroPartialAsync(offset, alignedStart, cancellationToken).ConfigureAwait(false);
        for (var position = alignedStart; position < alignedEnd;)
        {
            var l1Index = L1Index(position);
            var segmentEnd = Math.Min(alignedEnd, L1Start(l1Index + 1));
            await ZeroClustersAsync(l1Index, position, (int)((segmentEnd - position) >> _clusterBits), discard, unmap, cancellationToken).ConfigureAwait(false);
            position = segmentEnd;
        }
        if (alignedEnd < end && !discard)
            await ZeroPartialAsync(alignedEnd, end, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes zeroes over [start, end), skipping clusters that already read as zeroes.</summary>
    private async ValueTask ZeroPartialAsync(long start, long end, CancellationToken cancellationToken)
    {
        while (start < end)
        {
            var chunkEnd = Math.Min(end, (start | ClusterMask) + 1);
            var table = await GetL2TableAsync(L1Index(start), cancellationToken).ConfigureAwait(false);
            var entry = table is null ? 0 : table[L2Index(start)];
            if (!ReadsAsZero(entry, start))
                await WriteLockedAsync(start, ZeroCluster.AsMemory(0, (int)(chunkEnd - start)), cancellationToken).ConfigureAwait(false);
            start = chunkEnd;
        }
    }

    /// <summary>Zeroes or discards <paramref name="count"/> whole clusters from <paramref name="guest"/>, all under one L2 table.</summary>
    private async ValueTask ZeroClustersAsync(int l1Index, long guest, int count, bool discard, bool unmap, CancellationToken cancellationToken)
    {
        var hasBacking = Backing is not null;
        if (_header.Version < 3)
        {
            if (discard && hasBacking)
                return;
            if (hasBacking || !unmap)
            {
                // No zero flag in v2: zeroes have to be written where something else would show.
                await ZeroPartialAsync(guest, guest + ((long)count << _clusterBits), cancellationToken).ConfigureAwait(false);
                return;
            }
        }
        var current = await GetL2TableAsync(l1Index, cancellationToken).ConfigureAwait(false);
        var first = L2Index(guest);
        var changed = false;
        for (var c = first; c < first + count && !changed; c++)
        {
            var old = current is null ? 0 : current[c];
            changed = NewZeroEntry(old, discard, unmap, hasBacking) != old;
        }
        if (!changed)
            return;
        var (tableOffset, table) = await GetL2ForWriteAsync(l1Index, cancellationToken).ConfigureAwait(false);
        List<ulong>? freed = null;
        int low = int.MaxValue, high = -1;
        for (var c = first; c < first + count; c++)
        {
            var old = table[c];
            var updated = NewZeroEntry(old, discard, unmap, hasBacking);
            if (updated == old)
                continue;
            if (Qcow2Entry.HostOffset(updated) == 0 && Qcow2Entry.Classify(old) is Qcow2ClusterKind.Normal or Qcow2ClusterKind.ZeroAlloc or Qcow2ClusterKind.Compressed)
                (freed ??= []).Add(old);
            table[c] = updated;
            low = Math.Min(low, c);
            high = c;
        }
        await WriteEntriesAsync(tableOffset, table, low, high - low + 1, cancellationToken).ConfigureAwait(false);
        if (freed is not null)
            await FreeEntriesAsync(freed, discard && _options.PassDiscardRequest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The entry a zeroed or discarded cluster gets. v3 uses the zero flag wherever the backing file would
    /// otherwise show through; a write-zeroes without unmap keeps a cluster it owns alone preallocated.
    /// </summary>
    private ulong NewZeroEntry(ulong old, bool discard, bool unmap, bool hasBacking)
    {
        var kind = Qcow2Entry.Classify(old);
        var zero = _header.Version >= 3 && hasBacking ? Qcow2Format.ZeroFlag : 0;
        if (discard || _header.Version < 3)
            return kind == Qcow2ClusterKind.Unallocated && zero == 0 ? old : zero;
        return kind switch
        {
            Qcow2ClusterKind.Unallocated => hasBacking ? Qcow2Format.ZeroFlag : old,
            Qcow2ClusterKind.ZeroPlain => old,
            Qcow2ClusterKind.ZeroAlloc => unmap ? Qcow2Format.ZeroFlag : old,
            Qcow2ClusterKind.Normal when !unmap && Qcow2Entry.IsCopied(old) => old | Qcow2Format.ZeroFlag,
            _ => Qcow2Format.ZeroFlag,
        };
    }
}
