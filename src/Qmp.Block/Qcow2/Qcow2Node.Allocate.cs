namespace Qmp.Block.Qcow2;

// Allocating writes alongside other requests (QEMU's qcow2_alloc_cluster_offset / link_l2 split): clusters are
// allocated under the allocation lock, the data goes out with no lock but the metadata read lock, and the L2
// entries are linked under the allocation lock again. Writes that would copy or free clusters still in use
// (snapshot-shared or compressed data, shared L2 tables) take the exclusive path in Qcow2Node.Write.cs instead.
public sealed partial class Qcow2Node
{
    private readonly SemaphoreSlim _allocLock = new(1, 1);
    private readonly Qcow2AllocationsInFlight _allocations = new();

    private int _allocationWaits;

    /// <summary>How many times an allocating write waited for an earlier one on the same clusters (for tests).</summary>
    internal int AllocationWaits => Volatile.Read(ref _allocationWaits);

    /// <summary>
    /// Writes guest data that needs new clusters without excluding other requests; the caller holds the read lock.
    /// Returns false, having changed nothing, when the range needs the exclusive path.
    /// </summary>
    private async ValueTask<bool> TryWriteAllocatingAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var first = offset >> _clusterBits;
        var last = (offset + data.Length - 1) >> _clusterBits;
        List<Qcow2WritePiece> pieces;
        TaskCompletionSource claim;
        while (true)
        {
            Task? earlier;
            await _allocLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // A write allocating any of these guest clusters must link them first, or both would allocate them.
                earlier = _allocations.FindOverlap(first, last);
                if (earlier is null)
                {
                    if (!await CanAllocateAlongsideAsync(offset, data.Length, cancellationToken).ConfigureAwait(false))
                        return false;
                    // From here on the metadata changes run to the end.
                    pieces = await AllocatePiecesAsync(offset, data.Length, CancellationToken.None).ConfigureAwait(false);
                    claim = _allocations.Add(first, last);
                    break;
                }
            }
            finally
            {
                _allocLock.Release();
            }
            Interlocked.Increment(ref _allocationWaits);
            await earlier.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            // Data before the L2 entries that make it visible.
            foreach (var piece in pieces)
            {
                var slice = data.Slice((int)(piece.From - offset), piece.Length);
                if (piece.Kind == Qcow2WritePieceKind.InPlace)
                    await _file.WriteAsync(piece.Host + (piece.From - piece.ClusterGuest), slice, BlockWriteFlags.None, CancellationToken.None).ConfigureAwait(false);
                else
                    await WriteNewClustersAsync(piece.Host, piece.ClusterGuest, piece.Count, piece.From, slice, piece.OldFirst, piece.OldLast, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch
        {
            await _allocLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                // Nothing points at the new clusters yet: give them back (a failure here only leaks).
                foreach (var piece in pieces)
                {
                    if (piece.Kind == Qcow2WritePieceKind.New)
                        await UpdateRefcountsAsync(piece.Host >> _clusterBits, piece.Count, -1, CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                _allocations.Remove(claim);
                _allocLock.Release();
            }
            throw;
        }

        await _allocLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            foreach (var piece in pieces)
            {
                if (piece.Kind != Qcow2WritePieceKind.InPlace)
                    await LinkAsync(piece, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _allocations.Remove(claim);
            _allocLock.Release();
        }
        return true;
    }

    /// <summary>
    /// Whether every cluster of the range is ours alone, unallocated, a plain zero cluster or a zero cluster
    /// preallocated for us, under L2 tables we own or that are still to be made: then nothing in use is
    /// copied or freed, and readers can go on while the write runs.
    /// </summary>
    private async ValueTask<bool> CanAllocateAlongsideAsync(long offset, int length, CancellationToken cancellationToken)
    {
        var end = offset + length;
        for (var guest = offset & ~ClusterMask; guest < end;)
        {
            var l1Index = L1Index(guest);
            if (l1Index >= _l1.Length)
                return false;
            var segmentEnd = Math.Min(end, L1Start(l1Index + 1));
            var l1Entry = _l1[l1Index];
            if (Qcow2Entry.HostOffset(l1Entry) == 0)
            {
                guest = segmentEnd;
                continue;
            }
            if (!Qcow2Entry.IsCopied(l1Entry))
                return false;
            var table = await GetL2TableAsync(l1Index, cancellationToken).ConfigureAwait(false);
            for (; guest < segmentEnd; guest += _clusterSize)
            {
                var entry = table![L2Index(guest)];
                var fine = Qcow2Entry.Classify(entry) switch
                {
                    Qcow2ClusterKind.Unallocated or Qcow2ClusterKind.ZeroPlain => true,
                    Qcow2ClusterKind.Normal or Qcow2ClusterKind.ZeroAlloc => Qcow2Entry.IsCopied(entry),
                    _ => false,
                };
                if (!fine)
                    return false;
            }
            guest = segmentEnd;
        }
        return true;
    }

    /// <summary>Makes missing L2 tables, allocates the new clusters (refcounts raised) and returns what to write where.</summary>
    private async ValueTask<List<Qcow2WritePiece>> AllocatePiecesAsync(long offset, int length, CancellationToken cancellationToken)
    {
        var pieces = new List<Qcow2WritePiece>();
        var end = offset + length;
        try
        {
            for (var guest = offset; guest < end;)
            {
                var l1Index = L1Index(guest);
                var segmentEnd = Math.Min(end, L1Start(l1Index + 1));
                var (tableOffset, table) = await GetL2ForWriteAsync(l1Index, cancellationToken).ConfigureAwait(false);
                var baseGuest = L1Start(l1Index);
                var lastIndex = L2Index(segmentEnd - 1);
                for (var i = L2Index(guest); i <= lastIndex;)
                {
                    var entry = table[i];
                    var clusterGuest = baseGuest + ((long)i << _clusterBits);
                    var from = Math.Max(guest, clusterGuest);
                    var kind = Qcow2Entry.Classify(entry) switch
                    {
                        Qcow2ClusterKind.Normal => Qcow2WritePieceKind.InPlace,
                        Qcow2ClusterKind.ZeroAlloc => Qcow2WritePieceKind.Prealloc,
                        _ => Qcow2WritePieceKind.New,
                    };
                    var host = Qcow2Entry.HostOffset(entry);
                    var j = i + 1;
                    if (kind == Qcow2WritePieceKind.InPlace)
                    {
                        while (j <= lastIndex && Qcow2Entry.IsWritableInPlace(table[j]) && Qcow2Entry.HostOffset(table[j]) == host + ((long)(j - i) << _clusterBits))
                            j++;
                    }
                    else if (kind == Qcow2WritePieceKind.New)
                    {
                        while (j <= lastIndex && Qcow2Entry.Classify(table[j]) is Qcow2ClusterKind.Unallocated or Qcow2ClusterKind.ZeroPlain)
                            j++;
                        host = await AllocateClustersAsync(j - i, cancellationToken).ConfigureAwait(false);
                    }
                    // A preallocated zero cluster of ours (Prealloc) is filled in place; linking drops its zero flag.
                    var to = Math.Min(segmentEnd, baseGuest + ((long)j << _clusterBits));
                    pieces.Add(new(kind, host, clusterGuest, j - i, from, (int)(to - from), entry, table[j - 1], tableOffset, i));
                    i = j;
                }
                guest = segmentEnd;
            }
        }
        catch
        {
            foreach (var piece in pieces)
            {
                if (piece.Kind == Qcow2WritePieceKind.New)
                    await UpdateRefcountsAsync(piece.Host >> _clusterBits, piece.Count, -1, CancellationToken.None).ConfigureAwait(false);
            }
            throw;
        }
        return pieces;
    }

    /// <summary>
    /// Points the piece's L2 entries at its clusters: on disk first, then in the cached table. The other way round,
    /// a write could find the entry, go in place and be flushed while the entry itself was not on disk yet.
    /// </summary>
    private async ValueTask LinkAsync(Qcow2WritePiece piece, CancellationToken cancellationToken)
    {
        var entries = new ulong[piece.Count];
        for (var c = 0; c < piece.Count; c++)
            entries[c] = (ulong)(piece.Host + ((long)c << _clusterBits)) | Qcow2Format.Copied;
        await WriteEntriesAsync(piece.TableOffset + ((long)piece.L2Index * 8), entries, 0, piece.Count, cancellationToken).ConfigureAwait(false);
        _l2Cache.Update(piece.TableOffset, piece.L2Index, entries);
    }
}
