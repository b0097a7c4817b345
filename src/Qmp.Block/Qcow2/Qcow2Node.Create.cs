using System.Numerics;

namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <summary>
    /// Writes a new, empty qcow2 image onto <paramref name="file"/> (truncated to 0 first unless the options say not), laid out as
    /// <c>qemu-img create -f qcow2</c> does: header in cluster 0, refcount table in cluster 1, refcount block in
    /// cluster 2, then the L1 table. The file node stays open and attached to nothing.
    /// </summary>
    /// <exception cref="BlockException">Invalid options (QEMU's texts) or an I/O error.</exception>
    public static async Task CreateAsync(BlockNode file, Qcow2CreateOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        var header = BuildCreateHeader(options);
        var size = (options.Size + 511) & ~511L;
        var clusterSize = header.ClusterSize;

        if (options.TruncateFile && file.Length != 0)
            await file.TruncateAsync(0, cancellationToken).ConfigureAwait(false);
        await file.WriteAsync(0, header.Serialize(), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        var refTable = new byte[clusterSize];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(refTable, 2UL * (ulong)clusterSize);
        await file.WriteAsync(clusterSize, refTable, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        var refBlock = new byte[clusterSize];
        for (var i = 0; i < 3; i++)
            Qcow2RefcountCodec.Set(refBlock, i, header.RefcountOrder, 1);
        await file.WriteAsync(2L * clusterSize, refBlock, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);

        // The rest goes through the driver, as in QEMU: growing the empty image allocates the L1 table.
        var node = new Qcow2Node(file, readOnly: false, new Qcow2OpenOptions { LazyRefcounts = false });
        await node.LoadMetadataAsync(cancellationToken).ConfigureAwait(false);
        await node.ResizeLockedAsync(size, cancellationToken).ConfigureAwait(false);
        if (options.Preallocation == "metadata")
            await node.PreallocateMetadataAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Qcow2Header BuildCreateHeader(Qcow2CreateOptions options)
    {
        var clusterSize = options.ClusterSize;
        if (clusterSize is < 512 or > 2 * 1024 * 1024 || !BitOperations.IsPow2(clusterSize))
            throw new BlockException(BlockError.Invalid, "Cluster size must be a power of two between 512 and 2048k");
        var version = options.Compat switch
        {
            "0.10" or "v2" => 2,
            "1.1" or "v3" => 3,
            _ => throw new BlockException(BlockError.Invalid, $"Invalid compatibility level: '{options.Compat}'"),
        };
        if (options.LazyRefcounts && version < 3)
            throw new BlockException(BlockError.Invalid, "Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)");
        if (options.RefcountBits is < 1 or > 64 || !BitOperations.IsPow2(options.RefcountBits))
            throw new BlockException(BlockError.Invalid, "Refcount width must be a power of two and may not exceed 64 bits");
        if (version < 3 && options.RefcountBits != 16)
            throw new BlockException(BlockError.Invalid, "Different refcount widths than 16 bits require compatibility level 1.1 or above (use version=v3 or greater)");
        if (options.BackingFile is null && options.BackingFormat is not null)
            throw new BlockException(BlockError.Invalid, "Backing format cannot be used without backing file");
        if (options.Size < 0)
            throw new BlockException(BlockError.Invalid, "Image size must be a positive number");
        if (options.Preallocation is not ("off" or "metadata"))
            throw new BlockException(BlockError.NotSupported, $"Unsupported preallocation mode '{options.Preallocation}'");
        if (options.Preallocation != "off" && options.BackingFile is not null)
            throw new BlockException(BlockError.Invalid, "Backing file and preallocation can only be used at the same time if extended_l2 is on");
        return new Qcow2Header
        {
            Version = version,
            ClusterBits = BitOperations.Log2((uint)clusterSize),
            RefcountTableOffset = clusterSize,
            RefcountTableClusters = 1,
            RefcountOrder = BitOperations.Log2((uint)options.RefcountBits),
            HeaderLength = version == 3 ? Qcow2Format.V3HeaderLength : Qcow2Format.V2HeaderLength,
            CompatibleFeatures = options.LazyRefcounts ? Qcow2Format.CompatLazyRefcounts : 0,
            BackingFileName = options.BackingFile,
            BackingFormat = options.BackingFile is null ? null : options.BackingFormat,
        };
    }

    /// <summary>preallocation=metadata: every guest cluster gets an L2 entry and a host cluster; the file is extended over them.</summary>
    private async ValueTask PreallocateMetadataAsync(CancellationToken cancellationToken)
    {
        var clusters = SizeToClusters(Length);
        var end = 0L;
        for (var l1Index = 0; (long)l1Index << _l2Bits < clusters; l1Index++)
        {
            var (tableOffset, table) = await GetL2ForWriteAsync(l1Index, cancellationToken).ConfigureAwait(false);
            var count = (int)Math.Min(_l2Entries, clusters - ((long)l1Index << _l2Bits));
            var host = await AllocateClustersAsync(count, cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < count; i++)
                table[i] = (ulong)(host + ((long)i << _clusterBits)) | Qcow2Format.Copied;
            await WriteEntriesAsync(tableOffset, table, 0, count, cancellationToken).ConfigureAwait(false);
            end = Math.Max(end, host + ((long)count << _clusterBits));
        }
        if (_file.Length < end)
            await _file.TruncateAsync(end, cancellationToken).ConfigureAwait(false);
    }
}
