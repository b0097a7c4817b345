using System.Buffers;

namespace Qmp.Block.Qcow2;

// Compressed writes (QEMU's qcow2_co_pwritev_compressed): whole clusters, deflated and packed at byte granularity
// into partly used host clusters. Only clusters with no host cluster yet can be written this way.
public sealed partial class Qcow2Node
{
    // Where the next compressed cluster may start: inside the host cluster the last one ended in (QEMU's free_byte_offset).
    private long _freeByteOffset;

    /// <inheritdoc/>
    public override bool SupportsCompressedWrites => true;

    /// <inheritdoc/>
    public override string? CompressedWritesUnavailable => Qcow2Zlib.LoadError;

    /// <summary>
    /// Writes whole clusters compressed; a cluster that does not shrink is written as it is. The range starts on a
    /// cluster boundary and ends on one or at the end of the image (the last cluster is padded with zeroes).
    /// </summary>
    private async ValueTask WriteCompressedAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if ((offset & ClusterMask) != 0 || ((data.Length & ClusterMask) != 0 && offset + data.Length != Length))
            throw new BlockException(BlockError.Invalid, $"qcow2: compressed write at offset {offset} length {data.Length} is not made of whole clusters");
        var cluster = ArrayPool<byte>.Shared.Rent(_clusterSize);
        var compressed = ArrayPool<byte>.Shared.Rent(_clusterSize);
        try
        {
            for (var done = 0; done < data.Length; done += _clusterSize)
            {
                var chunk = data.Slice(done, Math.Min(_clusterSize, data.Length - done));
                chunk.Span.CopyTo(cluster);
                cluster.AsSpan(chunk.Length, _clusterSize - chunk.Length).Clear();
                // Less than a cluster or not at all, as QEMU: its output buffer is one byte short of a cluster.
                var length = Qcow2Zlib.Compress(cluster.AsSpan(0, _clusterSize), compressed.AsSpan(0, _clusterSize - 1));
                if (length < 0)
                {
                    await WriteCoreAsync(offset + done, chunk, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                // Once metadata changes start they run to the end.
                using (await _lock.EnterWriteAsync(cancellationToken).ConfigureAwait(false))
                    await WriteCompressedClusterLockedAsync(offset + done, compressed.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(cluster);
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

    /// <summary>Stores one compressed cluster: bytes allocated (refcounts raised), data written, then the L2 entry.</summary>
    private async ValueTask WriteCompressedClusterLockedAsync(long guest, ReadOnlyMemory<byte> compressed, CancellationToken cancellationToken)
    {
        var (tableOffset, table) = await GetL2ForWriteAsync(L1Index(guest), cancellationToken).ConfigureAwait(false);
        var index = L2Index(guest);
        var old = table[index];
        // Compressed data cannot overwrite anything (QEMU fails such a write with EIO).
        if ((old & Qcow2Format.OffsetMask) != 0)
            throw new BlockException(BlockError.Io, "Input/output error");
        var host = await AllocateCompressedBytesAsync(compressed.Length, cancellationToken).ConfigureAwait(false);
        var firstCluster = host >> _clusterBits;
        var clusters = ((host + compressed.Length - 1) >> _clusterBits) - firstCluster + 1;
        try
        {
            await _file.WriteAsync(host, compressed, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Nothing points at the bytes yet: give their references back (a failure here only leaks).
            await UpdateRefcountsAsync(firstCluster, clusters, -1, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        var sectors = ((host + compressed.Length - 1) / Qcow2Format.CompressedSectorSize) - (host / Qcow2Format.CompressedSectorSize);
        table[index] = (ulong)host | Qcow2Format.Compressed | ((ulong)sectors << (62 - (_clusterBits - 8)));
        try
        {
            await WriteEntriesAsync(tableOffset, table, index, 1, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The entry may or may not be on disk: keep the references (at worst a leak) and what the disk had.
            table[index] = old;
            throw;
        }
    }

    /// <summary>
    /// Allocates <paramref name="size"/> bytes for compressed data (QEMU's qcow2_alloc_bytes): after the last
    /// compressed data if its host cluster has room, running on into the next cluster if that is the one newly
    /// allocated, else at the start of a new cluster. Every host cluster the bytes touch gets one more reference.
    /// </summary>
    private async ValueTask<long> AllocateCompressedBytesAsync(int size, CancellationToken cancellationToken)
    {
        var offset = _freeByteOffset;
        if (offset != 0)
        {
            var refcount = await GetRefcountAsync(offset >> _clusterBits, cancellationToken).ConfigureAwait(false);
            if (refcount == 0 || refcount == Qcow2RefcountCodec.MaxValue(_refcountOrder))
                offset = 0;
        }
        var room = offset == 0 ? 0 : _clusterSize - (int)(offset & ClusterMask);
        if (room >= size)
        {
            await UpdateRefcountsAsync(offset >> _clusterBits, 1, 1, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var fresh = await AllocateClustersAsync(1, cancellationToken).ConfigureAwait(false);
            if (offset != 0 && ((offset + ClusterMask) & ~ClusterMask) == fresh)
            {
                try
                {
                    await UpdateRefcountsAsync(offset >> _clusterBits, 1, 1, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await UpdateRefcountsAsync(fresh >> _clusterBits, 1, -1, CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
            }
            else
            {
                offset = fresh;
            }
        }
        var end = offset + size;
        _freeByteOffset = (end & ClusterMask) == 0 ? 0 : end;
        return offset;
    }

    /// <summary>A host cluster that lost its last reference can no longer take further compressed data.</summary>
    private void ForgetFreeBytesIn(long cluster)
    {
        if (_freeByteOffset != 0 && cluster == _freeByteOffset >> _clusterBits)
            _freeByteOffset = 0;
    }
}
