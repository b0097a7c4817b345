using System.Buffers.Binary;
using System.Text;

namespace Qmp.Block.Qcow2;

/// <summary>
/// The qcow2 header in cluster 0: fixed fields, header extensions and the backing file name. Parsed
/// with QEMU's validation and error texts, and serialised the way QEMU lays cluster 0 out.
/// </summary>
internal sealed class Qcow2Header
{
    public int Version { get; set; } = 3;
    public int ClusterBits { get; set; } = Qcow2Format.DefaultClusterBits;
    public long Size { get; set; }
    public uint CryptMethod { get; set; }
    public int L1Size { get; set; }
    public long L1TableOffset { get; set; }
    public long RefcountTableOffset { get; set; }
    public int RefcountTableClusters { get; set; }
    public int SnapshotCount { get; set; }
    public long SnapshotsOffset { get; set; }
    public ulong IncompatibleFeatures { get; set; }
    public ulong CompatibleFeatures { get; set; }
    public ulong AutoclearFeatures { get; set; }
    public int RefcountOrder { get; set; } = Qcow2Format.DefaultRefcountOrder;
    public int HeaderLength { get; set; } = Qcow2Format.V3HeaderLength;
    public byte CompressionType { get; set; }

    /// <summary>Header bytes past the 112 QEMU knows (a newer writer's fields), kept when rewriting.</summary>
    public byte[] ExtraFields { get; set; } = [];

    public long BackingFileOffset { get; set; }
    public int BackingFileSize { get; set; }
    public string? BackingFileName { get; set; }
    public string? BackingFormat { get; set; }

    /// <summary>Feature names from the image's own table, for error messages.</summary>
    public List<(byte Type, byte Bit, string Name)> FeatureNames { get; } = [];

    /// <summary>Extensions this driver does not interpret, preserved verbatim (bitmaps, unknown ones).</summary>
    public List<(uint Type, byte[] Data)> OtherExtensions { get; } = [];

    public int ClusterSize => 1 << ClusterBits;

    /// <summary>Where the header-length field puts the extensions (v2 has a fixed 72-byte header).</summary>
    private int ExtensionStart => Version == 2 ? Qcow2Format.V2HeaderLength : HeaderLength;

    /// <summary>Parses the fixed fields only (the first 104 bytes suffice); checks magic, version and cluster size.</summary>
    public static Qcow2Header ParseFixed(ReadOnlySpan<byte> b)
    {
        if (b.Length < Qcow2Format.V2HeaderLength || BinaryPrimitives.ReadUInt32BigEndian(b) != Qcow2Format.Magic)
            throw new BlockException(BlockError.Invalid, "Image is not in qcow2 format");
        var h = new Qcow2Header { Version = (int)BinaryPrimitives.ReadUInt32BigEndian(b[4..]) };
        if (h.Version is < 2 or > 3)
            throw new BlockException(BlockError.NotSupported, $"Unsupported qcow2 version {h.Version}");
        var clusterBits = BinaryPrimitives.ReadUInt32BigEndian(b[20..]);
        if (clusterBits is < Qcow2Format.MinClusterBits or > Qcow2Format.MaxClusterBits)
            throw new BlockException(BlockError.Invalid, $"Unsupported cluster size: 2^{clusterBits}");
        h.ClusterBits = (int)clusterBits;
        h.Size = (long)BinaryPrimitives.ReadUInt64BigEndian(b[24..]);
        h.CryptMethod = BinaryPrimitives.ReadUInt32BigEndian(b[32..]);
        h.L1Size = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[36..]), int.MaxValue);
        h.L1TableOffset = (long)BinaryPrimitives.ReadUInt64BigEndian(b[40..]);
        h.RefcountTableOffset = (long)BinaryPrimitives.ReadUInt64BigEndian(b[48..]);
        h.RefcountTableClusters = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[56..]), int.MaxValue);
        h.SnapshotCount = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[60..]), int.MaxValue);
        h.SnapshotsOffset = (long)BinaryPrimitives.ReadUInt64BigEndian(b[64..]);
        if (h.Version == 2)
        {
            h.RefcountOrder = Qcow2Format.DefaultRefcountOrder;
            h.HeaderLength = Qcow2Format.V2HeaderLength;
            return h;
        }
        if (b.Length < Qcow2Format.V3MinHeaderLength)
            throw new BlockException(BlockError.Invalid, "qcow2 header too short");
        h.IncompatibleFeatures = BinaryPrimitives.ReadUInt64BigEndian(b[72..]);
        h.CompatibleFeatures = BinaryPrimitives.ReadUInt64BigEndian(b[80..]);
        h.AutoclearFeatures = BinaryPrimitives.ReadUInt64BigEndian(b[88..]);
        h.RefcountOrder = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[96..]), int.MaxValue);
        h.HeaderLength = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(b[100..]), int.MaxValue);
        if (h.HeaderLength < Qcow2Format.V3MinHeaderLength)
            throw new BlockException(BlockError.Invalid, "qcow2 header too short");
        if (h.HeaderLength > h.ClusterSize)
            throw new BlockException(BlockError.Invalid, "qcow2 header exceeds cluster size");
        if (h.RefcountOrder > Qcow2Format.MaxRefcountOrder)
            throw new BlockException(BlockError.Invalid, "Reference count entry width too large; may not exceed 64 bits");
        return h;
    }

    /// <summary>Parses cluster 0: fixed fields, optional v3 fields, extensions and the backing file name.</summary>
    public static Qcow2Header Parse(ReadOnlySpan<byte> cluster0)
    {
        var h = ParseFixed(cluster0);
        if (cluster0.Length < h.ClusterSize)
            throw new BlockException(BlockError.Invalid, "Image is not in qcow2 format");
        cluster0 = cluster0[..h.ClusterSize];
        if (h.Version == 3 && h.HeaderLength > Qcow2Format.V3MinHeaderLength)
        {
            h.CompressionType = cluster0[104];
            if (h.HeaderLength > Qcow2Format.V3HeaderLength)
                h.ExtraFields = cluster0[Qcow2Format.V3HeaderLength..h.HeaderLength].ToArray();
        }
        var backingOffset = (long)BinaryPrimitives.ReadUInt64BigEndian(cluster0[8..]);
        var backingSize = BinaryPrimitives.ReadUInt32BigEndian(cluster0[16..]);
        if (backingOffset > h.ClusterSize)
            throw new BlockException(BlockError.Invalid, "Invalid backing file offset");
        var extEnd = backingOffset != 0 ? (int)backingOffset : h.ClusterSize;
        h.ParseExtensions(cluster0, extEnd);
        h.BackingFileOffset = backingOffset;
        h.BackingFileSize = (int)Math.Min(backingSize, int.MaxValue);
        if (backingOffset != 0 && backingSize != 0)
        {
            if (backingSize > Math.Min(Qcow2Format.MaxBackingFileNameLength, h.ClusterSize - backingOffset))
                throw new BlockException(BlockError.Invalid, "Backing file name too long");
            h.BackingFileName = Encoding.UTF8.GetString(cluster0.Slice((int)backingOffset, (int)backingSize));
        }
        return h;
    }

    private void ParseExtensions(ReadOnlySpan<byte> cluster0, int end)
    {
        var offset = ExtensionStart;
        while (offset + 8 <= end)
        {
            var type = BinaryPrimitives.ReadUInt32BigEndian(cluster0[offset..]);
            var length = BinaryPrimitives.ReadUInt32BigEndian(cluster0[(offset + 4)..]);
            offset += 8;
            if (type == Qcow2Format.ExtEnd)
                return;
            if (length > end - offset)
                throw new BlockException(BlockError.Invalid, "Header extension too large");
            var data = cluster0.Slice(offset, (int)length);
            switch (type)
            {
                case Qcow2Format.ExtBackingFormat:
                    if (length > Qcow2Format.MaxBackingFormatLength)
                        throw new BlockException(BlockError.Invalid, $"ERROR: ext_backing_format: len={length} too large (>={Qcow2Format.MaxBackingFormatLength + 1})");
                    BackingFormat = Encoding.ASCII.GetString(data).TrimEnd('\0');
                    break;
                case Qcow2Format.ExtFeatureTable:
                    for (var i = 0; i + 48 <= data.Length; i += 48)
                    {
                        var name = Encoding.UTF8.GetString(data.Slice(i + 2, 46)).TrimEnd('\0');
                        FeatureNames.Add((data[i], data[i + 1], name));
                    }
                    break;
                default:
                    OtherExtensions.Add((type, data.ToArray()));
                    break;
            }
            offset += (int)((length + 7) & ~7u);
        }
    }

    /// <summary>The fixed fields as they sit at the start of cluster 0 (the first 112 bytes for v3, 72 for v2).</summary>
    public void WriteFixed(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt32BigEndian(b, Qcow2Format.Magic);
        BinaryPrimitives.WriteUInt32BigEndian(b[4..], (uint)Version);
        BinaryPrimitives.WriteUInt64BigEndian(b[8..], (ulong)BackingFileOffset);
        BinaryPrimitives.WriteUInt32BigEndian(b[16..], (uint)BackingFileSize);
        BinaryPrimitives.WriteUInt32BigEndian(b[20..], (uint)ClusterBits);
        BinaryPrimitives.WriteUInt64BigEndian(b[24..], (ulong)Size);
        BinaryPrimitives.WriteUInt32BigEndian(b[32..], CryptMethod);
        BinaryPrimitives.WriteUInt32BigEndian(b[36..], (uint)L1Size);
        BinaryPrimitives.WriteUInt64BigEndian(b[40..], (ulong)L1TableOffset);
        BinaryPrimitives.WriteUInt64BigEndian(b[48..], (ulong)RefcountTableOffset);
        BinaryPrimitives.WriteUInt32BigEndian(b[56..], (uint)RefcountTableClusters);
        BinaryPrimitives.WriteUInt32BigEndian(b[60..], (uint)SnapshotCount);
        BinaryPrimitives.WriteUInt64BigEndian(b[64..], (ulong)SnapshotsOffset);
        if (Version == 2)
            return;
        BinaryPrimitives.WriteUInt64BigEndian(b[72..], IncompatibleFeatures);
        BinaryPrimitives.WriteUInt64BigEndian(b[80..], CompatibleFeatures);
        BinaryPrimitives.WriteUInt64BigEndian(b[88..], AutoclearFeatures);
        BinaryPrimitives.WriteUInt32BigEndian(b[96..], (uint)RefcountOrder);
        BinaryPrimitives.WriteUInt32BigEndian(b[100..], (uint)HeaderLength);
        b[104] = CompressionType;
        b[105..Qcow2Format.V3HeaderLength].Clear();
    }

    /// <summary>
    /// Lays cluster 0 out as QEMU does: fixed fields (v3 header length at least 112), the backing format
    /// extension, the feature name table (v3 with clusters over 4 KiB), preserved extensions, the end
    /// marker, then the backing file name.
    /// </summary>
    public byte[] Serialize()
    {
        if (Version == 3)
            HeaderLength = Math.Max(HeaderLength, Qcow2Format.V3HeaderLength + ExtraFields.Length);
        var buf = new byte[ClusterSize];
        var offset = ExtensionStart;
        if (BackingFileName is not null && BackingFormat is not null)
            offset = AddExtension(buf, offset, Qcow2Format.ExtBackingFormat, Encoding.ASCII.GetBytes(BackingFormat));
        if (Version == 3 && ClusterSize > 4096)
            offset = AddExtension(buf, offset, Qcow2Format.ExtFeatureTable, FeatureTable());
        foreach (var (type, data) in OtherExtensions)
            offset = AddExtension(buf, offset, type, data);
        offset = AddExtension(buf, offset, Qcow2Format.ExtEnd, []);
        BackingFileOffset = 0;
        BackingFileSize = 0;
        if (BackingFileName is not null)
        {
            var name = Encoding.UTF8.GetBytes(BackingFileName);
            if (name.Length > Qcow2Format.MaxBackingFileNameLength || offset + name.Length > ClusterSize)
                throw new BlockException(BlockError.Invalid, "Backing file name too long");
            name.CopyTo(buf, offset);
            BackingFileOffset = offset;
            BackingFileSize = name.Length;
        }
        WriteFixed(buf);
        if (Version == 3)
            ExtraFields.CopyTo(buf, Qcow2Format.V3HeaderLength);
        return buf;
    }

    private int AddExtension(byte[] buf, int offset, uint type, byte[] data)
    {
        var padded = (data.Length + 7) & ~7;
        if (offset + 8 + padded > ClusterSize)
            throw new BlockException(BlockError.NoSpace, "Header extensions do not fit in the first cluster");
        BinaryPrimitives.WriteUInt32BigEndian(buf.AsSpan(offset), type);
        BinaryPrimitives.WriteUInt32BigEndian(buf.AsSpan(offset + 4), (uint)data.Length);
        data.CopyTo(buf, offset + 8);
        return offset + 8 + padded;
    }

    private static byte[] FeatureTable()
    {
        var table = new byte[Qcow2Format.FeatureNames.Length * 48];
        for (var i = 0; i < Qcow2Format.FeatureNames.Length; i++)
        {
            var (type, bit, name) = Qcow2Format.FeatureNames[i];
            table[i * 48] = type;
            table[(i * 48) + 1] = bit;
            Encoding.ASCII.GetBytes(name, table.AsSpan((i * 48) + 2, 46));
        }
        return table;
    }

    /// <summary>QEMU's text for incompatible bits it cannot handle: names from the image's table, then the unnamed rest.</summary>
    public string DescribeIncompatible(ulong mask)
    {
        var parts = new List<string>();
        foreach (var (type, bit, name) in FeatureNames)
        {
            if (type == 0 && bit < 64 && (mask & (1UL << bit)) != 0)
            {
                parts.Add(name);
                mask &= ~(1UL << bit);
            }
        }
        if (mask != 0)
            parts.Add($"Unknown incompatible feature: {mask:x}");
        return "Unsupported qcow2 feature(s): " + string.Join(", ", parts);
    }
}
