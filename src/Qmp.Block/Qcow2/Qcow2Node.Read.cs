using System.Buffers;
using System.IO.Compression;

namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <inheritdoc/>
    protected override async ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        using (await _lock.EnterReadAsync(cancellationToken).ConfigureAwait(false))
            await ReadGuestAsync(offset, buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads guest bytes; the caller holds the metadata lock (either side).</summary>
    private async ValueTask ReadGuestAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var guest = offset + done;
            var table = await GetL2TableAsync(L1Index(guest), cancellationToken).ConfigureAwait(false);
            var index = L2Index(guest);
            var entry = table is null ? 0 : table[index];
            var kind = ReadKind(entry);
            var host = Qcow2Entry.HostOffset(entry);
            var inCluster = (int)(guest & ClusterMask);
            var remaining = buffer.Length - done;

            // Extend the run over following clusters of the same kind (contiguous host clusters for data).
            var run = Math.Min(remaining, _clusterSize - inCluster);
            var next = index + 1;
            if (kind != Qcow2ClusterKind.Compressed)
            {
                while (run < remaining && next < _l2Entries)
                {
                    var e = table is null ? 0 : table[next];
                    if (ReadKind(e) != kind || (kind == Qcow2ClusterKind.Normal && Qcow2Entry.HostOffset(e) != host + ((long)(next - index) << _clusterBits)))
                        break;
                    run += Math.Min(remaining - run, _clusterSize);
                    next++;
                }
            }

            var slice = buffer.Slice(done, run);
            switch (kind)
            {
                case Qcow2ClusterKind.Normal:
                    await _file.ReadAsync(host + inCluster, slice, cancellationToken).ConfigureAwait(false);
                    break;
                case Qcow2ClusterKind.ZeroPlain:
                    slice.Span.Clear();
                    break;
                case Qcow2ClusterKind.Compressed:
                    await ReadCompressedAsync(entry, inCluster, slice, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await ReadBackingAsync(guest, slice, cancellationToken).ConfigureAwait(false);
                    break;
            }
            done += run;
        }
    }

    // For reads, preallocated zero clusters are just zero clusters.
    private static Qcow2ClusterKind ReadKind(ulong entry)
    {
        var kind = Qcow2Entry.Classify(entry);
        return kind == Qcow2ClusterKind.ZeroAlloc ? Qcow2ClusterKind.ZeroPlain : kind;
    }

    /// <summary>Reads what shows through an unallocated range: the backing node's data, zeroes past its end or without one.</summary>
    private async ValueTask ReadBackingAsync(long guest, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var backing = Backing;
        var available = backing is null ? 0 : (int)Math.Clamp(backing.Length - guest, 0, buffer.Length);
        if (available > 0)
            await backing!.ReadAsync(guest, buffer[..available], cancellationToken).ConfigureAwait(false);
        buffer.Span[available..].Clear();
    }

    /// <summary>Where a compressed cluster's deflate stream lies: its first byte and its length up to the end of its last sector.</summary>
    private (long Offset, int Length) CompressedExtent(ulong entry)
    {
        var offsetBits = 62 - (_clusterBits - 8);
        var offset = (long)(entry & ((1UL << offsetBits) - 1));
        var sectors = (int)((entry >> offsetBits) & ((1UL << (_clusterBits - 8)) - 1)) + 1;
        return (offset, (sectors * Qcow2Format.CompressedSectorSize) - (int)(offset & (Qcow2Format.CompressedSectorSize - 1)));
    }

    /// <summary>Reads part of a compressed cluster: the whole cluster is inflated and the wanted bytes copied out.</summary>
    private async ValueTask ReadCompressedAsync(ulong entry, int inCluster, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var (offset, length) = CompressedExtent(entry);
        var compressed = ArrayPool<byte>.Shared.Rent(length);
        var cluster = ArrayPool<byte>.Shared.Rent(_clusterSize);
        try
        {
            await _file.ReadAsync(offset, compressed.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            Inflate(compressed, length, cluster.AsSpan(0, _clusterSize));
            cluster.AsMemory(inCluster, buffer.Length).CopyTo(buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
            ArrayPool<byte>.Shared.Return(cluster);
        }
    }

    // Raw deflate (QEMU uses a 4 KiB window); the stream must fill the whole cluster.
    private void Inflate(byte[] compressed, int length, Span<byte> cluster)
    {
        int produced;
        try
        {
            using var input = new MemoryStream(compressed, 0, length, writable: false);
            using var inflater = new DeflateStream(input, CompressionMode.Decompress);
            produced = inflater.ReadAtLeast(cluster, cluster.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new BlockException(BlockError.Io, $"qcow2: Could not decompress a cluster of '{Filename}': {e.Message}", e);
        }
        if (produced < cluster.Length)
            throw new BlockException(BlockError.Io, $"qcow2: Compressed cluster of '{Filename}' is truncated");
    }
}
