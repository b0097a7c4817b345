using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Qmp.Block.Qcow2;

public sealed partial class Qcow2Node
{
    /// <summary>Reads and validates the header, L1 table, refcount table and snapshot table; drops every cache.</summary>
    private async ValueTask LoadMetadataAsync(CancellationToken cancellationToken)
    {
        var fileLength = _file.Length;
        var probe = new byte[(int)Math.Clamp(fileLength, 0, 512)];
        await _file.ReadAsync(0, probe, cancellationToken).ConfigureAwait(false);
        var fixedFields = Qcow2Header.ParseFixed(probe);
        var cluster0 = new byte[fixedFields.ClusterSize];
        await _file.ReadAsync(0, cluster0.AsMemory(0, (int)Math.Min(fileLength, cluster0.Length)), cancellationToken).ConfigureAwait(false);
        var header = Qcow2Header.Parse(cluster0);
        Validate(header);

        _header = header;
        _clusterBits = header.ClusterBits;
        _clusterSize = header.ClusterSize;
        _l2Bits = _clusterBits - 3;
        _l2Entries = 1 << _l2Bits;
        _refcountOrder = header.RefcountOrder;
        _refBlockBits = _clusterBits + 3 - _refcountOrder;
        Volatile.Write(ref _size, header.Size);
        var minL1 = (header.Size + ((long)_clusterSize << _l2Bits) - 1) >> (_clusterBits + _l2Bits);
        if (header.L1Size < minL1)
            throw new BlockException(BlockError.Invalid, "L1 table is too small");

        _l1 = await ReadTableAsync(header.L1TableOffset, header.L1Size, cancellationToken).ConfigureAwait(false);
        _refTable = await ReadTableAsync(header.RefcountTableOffset, (int)(((long)header.RefcountTableClusters << _clusterBits) / 8), cancellationToken).ConfigureAwait(false);
        _refBlocks = new byte[_refTable.Length][];
        _dirtyRefBlocks.Clear();
        _freeHint = 0;
        _freeByteOffset = 0;
        _l2Cache = new Qcow2L2Cache(_options.L2CacheSize, _clusterSize);
        (_snapshots, _snapshotTableLength) = header.SnapshotCount == 0
            ? ([], 0)
            : await Qcow2Snapshot.ReadTableAsync(_file, header.SnapshotsOffset, header.SnapshotCount, cancellationToken).ConfigureAwait(false);

        var lazyInImage = (header.CompatibleFeatures & Qcow2Format.CompatLazyRefcounts) != 0;
        _lazyRefcounts = _options.LazyRefcounts ?? lazyInImage;
        if (_lazyRefcounts && header.Version < 3)
            throw new BlockException(BlockError.Invalid, "Lazy refcounts require a qcow2 image with at least qemu 1.1 compatibility level");
        _dirtyBySelf = false;
    }

    private void Validate(Qcow2Header header)
    {
        var unknown = header.IncompatibleFeatures & ~Qcow2Format.IncompatKnown;
        if (unknown != 0)
            throw new BlockException(BlockError.NotSupported, header.DescribeIncompatible(unknown));
        if ((header.IncompatibleFeatures & Qcow2Format.IncompatDataFile) != 0)
            throw new BlockException(BlockError.NotSupported, "qcow2: images with an external data file are not supported");
        if ((header.IncompatibleFeatures & Qcow2Format.IncompatExtendedL2) != 0)
            throw new BlockException(BlockError.NotSupported, "qcow2: images with extended L2 entries (subclusters) are not supported");
        if ((header.IncompatibleFeatures & Qcow2Format.IncompatCompression) != 0 && header.CompressionType != 0)
            throw new BlockException(BlockError.NotSupported, header.CompressionType == 1 ? "qcow2: zstd compression is not supported" : $"Unknown compression type '{header.CompressionType}'");
        if ((header.IncompatibleFeatures & Qcow2Format.IncompatCompression) == 0 && header.CompressionType != 0)
            throw new BlockException(BlockError.Invalid, "Compression type differs from zlib, but the corresponding incompatible feature bit is not set");
        if (header.CryptMethod != 0)
            throw new BlockException(BlockError.NotSupported, "qcow2: encrypted images are not supported");
        if ((header.IncompatibleFeatures & Qcow2Format.IncompatCorrupt) != 0 && !ReadOnly && !_options.OpenForRepair)
            throw new BlockException(BlockError.Permission, "qcow2: Image is corrupt; cannot be opened read/write");
        var mask = header.ClusterSize - 1;
        if ((long)header.L1Size * 8 > Qcow2Format.MaxL1Bytes)
            throw new BlockException(BlockError.Invalid, "Active L1 table too large");
        if (header.L1Size > 0 && (header.L1TableOffset & mask) != 0)
            throw new BlockException(BlockError.Invalid, "Invalid L1 table offset");
        if ((header.RefcountTableOffset & mask) != 0 || header.RefcountTableOffset == 0)
            throw new BlockException(BlockError.Invalid, "Invalid reference count table offset");
        if ((long)header.RefcountTableClusters << header.ClusterBits > Qcow2Format.MaxRefcountTableBytes)
            throw new BlockException(BlockError.Invalid, "Reference count table too large");
        if (header.SnapshotCount > Qcow2Format.MaxSnapshots)
            throw new BlockException(BlockError.Invalid, "Too many snapshots");
        if (header.SnapshotCount > 0 && (header.SnapshotsOffset & mask) != 0)
            throw new BlockException(BlockError.Invalid, "Invalid snapshot table offset");
    }

    /// <summary>What QEMU does on a read-write open: clear autoclear bits we do not maintain, repair a dirty image.</summary>
    private async ValueTask PrepareWritableAsync(CancellationToken cancellationToken)
    {
        if (_header.AutoclearFeatures != 0)
        {
            _header.AutoclearFeatures = 0;
            await WriteHeaderRangeAsync(88, 96, cancellationToken).ConfigureAwait(false);
        }
        if ((_header.IncompatibleFeatures & Qcow2Format.IncompatDirty) != 0 && !_options.OpenForRepair)
        {
            // Refcounts may lag behind the L2 tables: rebuild them from the references, as check -r all does.
            await CheckLockedAsync(Qcow2RepairMode.All, cancellationToken).ConfigureAwait(false);
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
            _header.IncompatibleFeatures &= ~Qcow2Format.IncompatDirty;
            await WriteHeaderRangeAsync(72, 80, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes bytes [start, end) of the fixed header from the in-memory fields.</summary>
    private async ValueTask WriteHeaderRangeAsync(int start, int end, CancellationToken cancellationToken)
    {
        // Past byte 72 a v2 header has extensions, not feature fields.
        if (_header.Version < 3 && end > Qcow2Format.V2HeaderLength)
            throw new InvalidOperationException("qcow2 v2 headers have no feature fields");
        var buf = new byte[Qcow2Format.V3HeaderLength];
        _header.WriteFixed(buf);
        await _file.WriteAsync(start, buf.AsMemory(start, end - start), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a table of big-endian u64 entries.</summary>
    private async ValueTask<ulong[]> ReadTableAsync(long offset, int entries, CancellationToken cancellationToken)
    {
        var table = new ulong[entries];
        if (entries == 0)
            return table;
        var bytes = MemoryMarshal.AsBytes(table.AsSpan()).Length;
        var raw = ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            await _file.ReadAsync(offset, raw.AsMemory(0, bytes), cancellationToken).ConfigureAwait(false);
            Decode(raw.AsSpan(0, bytes), table);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
        return table;
    }

    private static void Decode(ReadOnlySpan<byte> raw, Span<ulong> table)
    {
        var source = MemoryMarshal.Cast<byte, ulong>(raw);
        if (BitConverter.IsLittleEndian)
            BinaryPrimitives.ReverseEndianness(source, table);
        else
            source.CopyTo(table);
    }

    /// <summary>Writes entries [first, first + count) of <paramref name="table"/>, which lives at <paramref name="tableOffset"/>.</summary>
    private async ValueTask WriteEntriesAsync(long tableOffset, ulong[] table, int first, int count, CancellationToken cancellationToken)
    {
        if (count <= 0)
            return;
        var bytes = count * 8;
        var raw = ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            var target = MemoryMarshal.Cast<byte, ulong>(raw.AsSpan(0, bytes));
            if (BitConverter.IsLittleEndian)
                BinaryPrimitives.ReverseEndianness(table.AsSpan(first, count), target);
            else
                table.AsSpan(first, count).CopyTo(target);
            await _file.WriteAsync(tableOffset + ((long)first * 8), raw.AsMemory(0, bytes), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    private ValueTask WriteL1EntryAsync(int index, CancellationToken cancellationToken) =>
        WriteEntriesAsync(_header.L1TableOffset, _l1, index, 1, cancellationToken);

    /// <summary>The L2 table for <paramref name="l1Index"/>, or null where the L1 entry is empty.</summary>
    private ValueTask<ulong[]?> GetL2TableAsync(int l1Index, CancellationToken cancellationToken)
    {
        if (l1Index >= _l1.Length)
            return ValueTask.FromResult<ulong[]?>(null);
        var offset = Qcow2Entry.HostOffset(_l1[l1Index]);
        if (offset == 0)
            return ValueTask.FromResult<ulong[]?>(null);
        if (_l2Cache.TryGet(offset, out var cached))
            return ValueTask.FromResult<ulong[]?>(cached);
        return LoadL2Async(offset, cancellationToken);
    }

    private async ValueTask<ulong[]?> LoadL2Async(long offset, CancellationToken cancellationToken)
    {
        if (_l2Cache.TryGet(offset, out var cached))
            return cached;
        if ((offset & ClusterMask) != 0)
            throw Corruption($"L2 table offset {offset:x} unaligned");
        while (true)
        {
            // An allocating write may link entries while this read runs: cache what was read only if no change landed meanwhile.
            var version = _l2Cache.Version;
            var table = await ReadTableAsync(offset, _l2Entries, cancellationToken).ConfigureAwait(false);
            if (_l2Cache.AddIfCurrent(offset, table, version) is { } added)
                return added;
        }
    }

    /// <summary>QEMU signals corrupt metadata as EIO; the image is left for <c>qemu-img check</c>.</summary>
    private BlockException Corruption(string what) =>
        new(BlockError.Io, $"qcow2: Image '{Filename}' is corrupt: {what}; run 'qemu-img check -r all'");
}
