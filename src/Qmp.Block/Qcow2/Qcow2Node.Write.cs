using System.Buffers;

namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    // Up to this size, a partial-cluster write and its copy-on-write pieces go out as one pwrite.
    private const int BounceLimit = 1 << 20;

    /// <inheritdoc/>
    protected override async ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        if ((flags & BlockWriteFlags.Compressed) != 0)
            await WriteCompressedAsync(offset, data, cancellationToken).ConfigureAwait(false);
        else if (data.Length > 0)
        {
            bool done;
            using (await _lock.EnterReadAsync(cancellationToken).ConfigureAwait(false))
            {
                done = await TryWriteInPlaceAsync(offset, data, cancellationToken).ConfigureAwait(false)
                    || await TryWriteAllocatingAsync(offset, data, cancellationToken).ConfigureAwait(false);
            }
            if (!done)
            {
                // Once metadata changes start they run to the end: a cancelled half-update would leave memory and disk apart.
                using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
                    await WriteLockedAsync(offset, data, CancellationToken.None).ConfigureAwait(false);
            }
        }
        if ((flags & BlockWriteFlags.Fua) != 0)
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The fast path, under the read lock: if every cluster is data this image owns alone (COPIED), writes in
    /// place, one pwrite per run of contiguous host clusters. Returns false (having written nothing) otherwise.
    /// </summary>
    private async ValueTask<bool> TryWriteInPlaceAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var end = offset + data.Length;
        var currentL1 = -1;
        ulong[]? table = null;
        for (var cluster = offset >> _clusterBits; cluster <= (end - 1) >> _clusterBits; cluster++)
        {
            var l1Index = (int)(cluster >> _l2Bits);
            if (l1Index != currentL1)
            {
                table = await GetL2TableAsync(l1Index, cancellationToken).ConfigureAwait(false);
                currentL1 = l1Index;
            }
            if (table is null || !Qcow2Entry.IsWritableInPlace(table[cluster & (_l2Entries - 1)]))
                return false;
        }
        var done = 0;
        while (done < data.Length)
        {
            var guest = offset + done;
            table = await GetL2TableAsync(L1Index(guest), cancellationToken).ConfigureAwait(false);
            var index = L2Index(guest);
            var host = Qcow2Entry.HostOffset(table![index]);
            var remaining = data.Length - done;
            var run = Math.Min(remaining, _clusterSize - (int)(guest & ClusterMask));
            for (var next = index + 1; run < remaining && next < _l2Entries && Qcow2Entry.HostOffset(table[next]) == host + ((long)(next - index) << _clusterBits); next++)
                run += Math.Min(remaining - run, _clusterSize);
            await _file.WriteAsync(host + (guest & ClusterMask), data.Slice(done, run), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
            done += run;
        }
        return true;
    }

    /// <summary>Writes guest data with allocation and copy-on-write; the caller holds the write lock.</summary>
    private async ValueTask WriteLockedAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var done = 0;
        while (done < data.Length)
        {
            var guest = offset + done;
            var l1Index = L1Index(guest);
            var length = (int)Math.Min(data.Length - done, L1Start(l1Index + 1) - guest);
            await WriteSegmentAsync(l1Index, guest, data.Slice(done, length), cancellationToken).ConfigureAwait(false);
            done += length;
        }
    }

    private static bool NeedsNewCluster(ulong entry) =>
        !Qcow2Entry.IsCopied(entry) || Qcow2Entry.Classify(entry) is not (Qcow2ClusterKind.Normal or Qcow2ClusterKind.ZeroAlloc);

    /// <summary>Writes a range covered by one L2 table.</summary>
    private async ValueTask WriteSegmentAsync(int l1Index, long guest, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var (tableOffset, table) = await GetL2ForWriteAsync(l1Index, cancellationToken).ConfigureAwait(false);
        var end = guest + data.Length;
        var baseGuest = L1Start(l1Index);
        var lastIndex = L2Index(end - 1);
        var i = L2Index(guest);
        while (i <= lastIndex)
        {
            var entry = table[i];
            var clusterGuest = baseGuest + ((long)i << _clusterBits);
            var from = Math.Max(guest, clusterGuest);
            if (Qcow2Entry.IsWritableInPlace(entry))
            {
                var host = Qcow2Entry.HostOffset(entry);
                var j = i + 1;
                while (j <= lastIndex && Qcow2Entry.IsWritableInPlace(table[j]) && Qcow2Entry.HostOffset(table[j]) == host + ((long)(j - i) << _clusterBits))
                    j++;
                var to = Math.Min(end, baseGuest + ((long)j << _clusterBits));
                await _file.WriteAsync(host + (from - clusterGuest), data.Slice((int)(from - guest), (int)(to - from)), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
                i = j;
                continue;
            }
            if (!NeedsNewCluster(entry))
            {
                // A preallocated zero cluster of ours: fill it and drop the zero flag.
                var host = Qcow2Entry.HostOffset(entry);
                var to = Math.Min(end, clusterGuest + _clusterSize);
                await WriteNewClustersAsync(host, clusterGuest, 1, from, data.Slice((int)(from - guest), (int)(to - from)), entry, entry, cancellationToken).ConfigureAwait(false);
                table[i] = (ulong)host | Qcow2Format.Copied;
                await WriteEntriesAsync(tableOffset, table, i, 1, cancellationToken).ConfigureAwait(false);
                i++;
                continue;
            }
            var k = i + 1;
            while (k <= lastIndex && NeedsNewCluster(table[k]))
                k++;
            var count = k - i;
            var runEnd = Math.Min(end, baseGuest + ((long)k << _clusterBits));
            var newHost = await AllocateClustersAsync(count, cancellationToken).ConfigureAwait(false);
            try
            {
                await WriteNewClustersAsync(newHost, clusterGuest, count, from, data.Slice((int)(from - guest), (int)(runEnd - from)), entry, table[k - 1], cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Nothing points at the new clusters yet: give them back (a failure here only leaks).
                await UpdateRefcountsAsync(newHost >> _clusterBits, count, -1, CancellationToken.None).ConfigureAwait(false);
                throw;
            }
            List<ulong>? old = null;
            for (var c = i; c < k; c++)
            {
                if (Qcow2Entry.Classify(table[c]) is not (Qcow2ClusterKind.Unallocated or Qcow2ClusterKind.ZeroPlain))
                    (old ??= []).Add(table[c]);
                table[c] = (ulong)(newHost + ((long)(c - i) << _clusterBits)) | Qcow2Format.Copied;
            }
            await WriteEntriesAsync(tableOffset, table, i, count, cancellationToken).ConfigureAwait(false);
            if (old is not null)
                await FreeEntriesAsync(old, false, cancellationToken).ConfigureAwait(false);
            i = k;
        }
    }

    /// <summary>
    /// Fills <paramref name="count"/> new host clusters at <paramref name="host"/> (guest clusters from
    /// <paramref name="clusterGuest"/>) with <paramref name="data"/> at guest offset <paramref name="from"/> and, around
    /// it, what the old entries <paramref name="oldFirst"/>/<paramref name="oldLast"/> made those bytes read as.
    /// Zero pieces past the end of the file are skipped: the file reads as zeroes there.
    /// </summary>
    private async ValueTask WriteNewClustersAsync(long host, long clusterGuest, int count, long from, ReadOnlyMemory<byte> data, ulong oldFirst, ulong oldLast, CancellationToken cancellationToken)
    {
        var dataEnd = from + data.Length;
        var headLength = (int)(from - clusterGuest);
        var tailLength = (int)(clusterGuest + ((long)count << _clusterBits) - dataEnd);
        var eof = _file.Length;
        var dataHost = host + headLength;
        var tailHost = dataHost + data.Length;
        var head = headLength > 0 && !(host >= eof && ReadsAsZero(oldFirst, clusterGuest));
        var tail = tailLength > 0 && !(tailHost >= eof && ReadsAsZero(oldLast, dataEnd));
        if (!head && !tail)
        {
            await _file.WriteAsync(dataHost, data, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
            return;
        }
        var total = (head ? headLength : 0) + data.Length + (tail ? tailLength : 0);
        if (total <= BounceLimit)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(total);
            try
            {
                var position = 0;
                if (head)
                {
                    await ReadOldAsync(oldFirst, clusterGuest, buffer.AsMemory(0, headLength), cancellationToken).ConfigureAwait(false);
                    position = headLength;
                }
                data.CopyTo(buffer.AsMemory(position));
                position += data.Length;
                if (tail)
                    await ReadOldAsync(oldLast, dataEnd, buffer.AsMemory(position, tailLength), cancellationToken).ConfigureAwait(false);
                await _file.WriteAsync(head ? host : dataHost, buffer.AsMemory(0, total), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return;
        }
        if (head)
            await CopyOldAsync(oldFirst, clusterGuest, host, headLength, cancellationToken).ConfigureAwait(false);
        await _file.WriteAsync(dataHost, data, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        if (tail)
            await CopyOldAsync(oldLast, dataEnd, tailHost, tailLength, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask CopyOldAsync(ulong entry, long guest, long host, int length, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            await ReadOldAsync(entry, guest, buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            await _file.WriteAsync(host, buffer.AsMemory(0, length), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Whether the old entry makes the bytes from <paramref name="guest"/> to its cluster's end read as zeroes without reading anything.</summary>
    private bool ReadsAsZero(ulong entry, long guest) => Qcow2Entry.Classify(entry) switch
    {
        Qcow2ClusterKind.ZeroPlain or Qcow2ClusterKind.ZeroAlloc => true,
        Qcow2ClusterKind.Unallocated => Backing is not { } backing || backing.Length <= guest,
        _ => false,
    };

    /// <summary>Reads what the guest saw through <paramref name="entry"/> at <paramref name="guest"/> (inside one cluster).</summary>
    private ValueTask ReadOldAsync(ulong entry, long guest, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        switch (Qcow2Entry.Classify(entry))
        {
            case Qcow2ClusterKind.Normal:
                return _file.ReadAsync(Qcow2Entry.HostOffset(entry) + (guest & ClusterMask), buffer, cancellationToken);
            case Qcow2ClusterKind.Compressed:
                return ReadCompressedAsync(entry, (int)(guest & ClusterMask), buffer, cancellationToken);
            case Qcow2ClusterKind.Unallocated:
                return ReadBackingAsync(guest, buffer, cancellationToken);
            default:
                buffer.Span.Clear();
                return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// The L2 table for <paramref name="l1Index"/>, ready to be changed: allocated (zeroed) if missing, copied
    /// if shared with a snapshot. The new table is on disk before the L1 entry points at it.
    /// </summary>
    private async ValueTask<(long Offset, ulong[] Table)> GetL2ForWriteAsync(int l1Index, CancellationToken cancellationToken)
    {
        if (l1Index >= _l1.Length)
            throw Corruption($"L1 index {l1Index} beyond the L1 table");
        var entry = _l1[l1Index];
        var offset = Qcow2Entry.HostOffset(entry);
        if (offset != 0 && Qcow2Entry.IsCopied(entry))
            return (offset, (await LoadL2Async(offset, cancellationToken).ConfigureAwait(false))!);
        var newOffset = await AllocateClustersAsync(1, cancellationToken).ConfigureAwait(false);
        ulong[] table;
        if (offset == 0)
        {
            table = new ulong[_l2Entries];
            // Written, not write-zeroes: growing the file by truncation could cut off a data write in flight past it.
            await _file.WriteAsync(newOffset, ZeroCluster, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            table = (ulong[])(await LoadL2Async(offset, cancellationToken).ConfigureAwait(false))!.Clone();
            // Every cluster the copy points at is shared with the old table's other user.
            for (var i = 0; i < table.Length; i++)
                table[i] &= ~Qcow2Format.Copied;
            await WriteEntriesAsync(newOffset, table, 0, table.Length, cancellationToken).ConfigureAwait(false);
        }
        _l2Cache.Replace(newOffset, table);
        _l1[l1Index] = (ulong)newOffset | Qcow2Format.Copied;
        await WriteL1EntryAsync(l1Index, cancellationToken).ConfigureAwait(false);
        if (offset != 0)
        {
            _l2Cache.Remove(offset);
            await UpdateRefcountsAsync(offset >> _clusterBits, 1, -1, cancellationToken).ConfigureAwait(false);
        }
        return (newOffset, table);
    }
}
