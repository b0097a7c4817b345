using System.Runtime.CompilerServices;
using Qmp.Block;
using Qmp.Block.File;
using Qmp.Block.Qcow2;
using Qmp.Block.Raw;

namespace Qmp.Img;

/// <summary>
/// QEMU's block-status queries over our nodes: <see cref="LayerAsync"/> is bdrv_co_block_status for one node
/// (want_zero: unallocated qcow2 ranges read as zero when there is no backing data beneath), and
/// <see cref="AboveAsync"/> is bdrv_block_status_above(bs, NULL), which looks down the backing chain.
/// </summary>
internal static class BlockStatusQuery
{
    private static readonly ConditionalWeakTable<BlockNode, StrongBox<bool>> _metadataPreallocated = [];
    private static readonly ConditionalWeakTable<BlockNode, StrongBox<(long Start, RangeStatus Status)?>> _lastAbove = [];

    /// <summary>One node's status from <paramref name="offset"/>, at most <paramref name="bytes"/>; Length 0 (with Eof) at or past the end.</summary>
    public static async ValueTask<RangeStatus> LayerAsync(BlockNode node, long offset, long bytes, CancellationToken cancellationToken)
    {
        var total = VirtualLength(node);
        if (offset >= total)
            return new RangeStatus(0, false, false, false, false, 0, null, Eof: true);
        if (offset >= node.Length)
        {
            // The partial sector QEMU adds to an image whose file is not a whole number of sectors: a hole.
            var hostOffset = offset + (node is RawNode raw ? raw.Offset : 0);
            return new RangeStatus(total - offset, false, true, true, true, hostOffset, node is FileNode ? node : node.File, Eof: true);
        }
        bytes = Math.Min(bytes, node.Length - offset);
        var status = await node.GetStatusAsync(offset, bytes, cancellationToken).ConfigureAwait(false);
        var flags = status.Flags;
        var length = status.Length;
        var data = (flags & BlockStatusFlags.Data) != 0;
        var zero = (flags & BlockStatusFlags.Zero) != 0;
        var offsetValid = (flags & BlockStatusFlags.OffsetValid) != 0;
        BlockNode? file = node switch
        {
            FileNode => node,
            RawNode => node.File,
            _ => offsetValid ? node.File : null,
        };
        var allocated = data || zero;
        if (!allocated && node.SupportsBacking && (node.Backing is not { } backing || offset >= backing.Length))
            zero = true;

        // BDRV_BLOCK_RECURSE: qcow2 with preallocated metadata has data clusters over holes of its file; those read as zeroes.
        if (data && !zero && offsetValid && file is not null && file != node && node is Qcow2Node qcow2 && IsMetadataPreallocated(qcow2))
        {
            var inFile = await LayerAsync(file, status.HostOffset, length, cancellationToken).ConfigureAwait(false);
            if (inFile.Eof && (inFile.Length == 0 || inFile.Zero))
            {
                zero = true;
            }
            else
            {
                length = inFile.Length;
                zero = inFile.Zero;
            }
        }
        return new RangeStatus(length, data, zero, allocated, offsetValid, status.HostOffset, file, offset + length == node.Length && node.Length == total);
    }

    /// <summary>
    /// The status through the whole chain: Allocated when some layer holds the range; Zero when nothing does or it
    /// reads as zeroes. The last answer per image is remembered: qemu-img walks forward in 2 MiB steps and asks again
    /// inside the same run each time (QEMU's file-posix caches its last data extent for the same reason; SEEK_HOLE
    /// on tmpfs costs time proportional to the rest of the file).
    /// </summary>
    public static async ValueTask<RangeStatus> AboveAsync(BlockNode top, long offset, long bytes, CancellationToken cancellationToken)
    {
        var cache = _lastAbove.GetOrCreateValue(top);
        var cached = cache.Value;
        if (cached is { } run && offset >= run.Start && offset < run.Start + run.Status.Length)
        {
            var delta = offset - run.Start;
            var length = Math.Min(run.Status.Length - delta, bytes);
            return run.Status with
            {
                Length = length,
                Offset = run.Status.OffsetValid ? run.Status.Offset + delta : run.Status.Offset,
                Eof = offset + length == VirtualLength(top),
            };
        }
        var status = await QueryAboveAsync(top, offset, bytes, cancellationToken).ConfigureAwait(false);
        cache.Value = (offset, status);
        return status;
    }

    private static async ValueTask<RangeStatus> QueryAboveAsync(BlockNode top, long offset, long bytes, CancellationToken cancellationToken)
    {
        var status = await LayerAsync(top, offset, bytes, cancellationToken).ConfigureAwait(false);
        if (status.Length == 0 || status.Allocated)
            return status;
        var eof = status.Eof;
        bytes = status.Length;
        for (var layer = top.Backing; layer is not null; layer = layer.Backing)
        {
            var below = await LayerAsync(layer, offset, bytes, cancellationToken).ConfigureAwait(false);
            if (below.Length == 0)
            {
                // The overlay reaches past this backing file: the rest reads as zeroes, as if allocated here.
                status = new RangeStatus(bytes, false, true, true, false, 0, layer, false);
                break;
            }
            status = below;
            if (below.Allocated)
                break;
            bytes = below.Length;
        }
        return status with { Eof = offset + status.Length == VirtualLength(top) || (eof && status.Length == bytes) };
    }

    /// <summary>The size QEMU gives an image: its node's length rounded up to whole 512-byte sectors (bdrv_getlength).</summary>
    public static long VirtualLength(BlockNode node) => (node.Length + 511) / 512 * 512;

    // qcow2_detect_metadata_preallocation: more clusters in use than the file has allocated. Clusters in use are
    // approximated by the file's length (qcow2 allocates from the start of the file and rarely leaves gaps).
    private static bool IsMetadataPreallocated(Qcow2Node node) =>
        _metadataPreallocated.GetValue(node, key =>
        {
            var file = key.File!;
            var clusterSize = node.ClusterSize;
            var used = (file.Length + clusterSize - 1) / clusterSize;
            var real = (file.DescribeImage().ActualSize ?? file.Length) / clusterSize;
            var threshold = Math.Max(real * 10 / 9, real + 2);
            return new StrongBox<bool>(used > threshold);
        }).Value;
}
