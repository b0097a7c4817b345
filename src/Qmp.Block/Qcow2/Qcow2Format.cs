namespace Qmp.Block.Qcow2;

/// <summary>The qcow2 on-disk constants (docs/interop/qcow2.txt): header fields, extensions, feature bits, entry flags.</summary>
internal static class Qcow2Format
{
    public const uint Magic = 0x514649fb;
    public const int MinClusterBits = 9;
    public const int MaxClusterBits = 21;
    public const int DefaultClusterBits = 16;
    public const int V2HeaderLength = 72;
    public const int V3MinHeaderLength = 104;
    public const int V3HeaderLength = 112;
    public const int MaxBackingFileNameLength = 1023;
    public const int MaxBackingFormatLength = 15;
    public const int MaxRefcountOrder = 6;
    public const int DefaultRefcountOrder = 4;
    public const int CompressedSectorSize = 512;

    // QEMU's limits: 32 MiB of active L1 table, 8 MiB of refcount table, 64 Ki snapshots.
    public const long MaxL1Bytes = 32L << 20;
    public const long MaxRefcountTableBytes = 8L << 20;
    public const int MaxSnapshots = 65536;

    public const uint ExtEnd = 0;
    public const uint ExtBackingFormat = 0xe2792aca;
    public const uint ExtFeatureTable = 0x6803f857;
    public const uint ExtBitmaps = 0x23852875;
    public const uint ExtCrypto = 0x0537be77;
    public const uint ExtDataFile = 0x44415441;

    public const ulong IncompatDirty = 1UL << 0;
    public const ulong IncompatCorrupt = 1UL << 1;
    public const ulong IncompatDataFile = 1UL << 2;
    public const ulong IncompatCompression = 1UL << 3;
    public const ulong IncompatExtendedL2 = 1UL << 4;
    public const ulong IncompatKnown = IncompatDirty | IncompatCorrupt | IncompatDataFile | IncompatCompression | IncompatExtendedL2;
    public const ulong CompatLazyRefcounts = 1UL << 0;

    /// <summary>Host offset bits of L1, L2 and refcount table entries (bits 9–55).</summary>
    public const ulong OffsetMask = 0x00ff_ffff_ffff_fe00;

    /// <summary>"COPIED": the table or cluster has refcount 1 and may be written in place.</summary>
    public const ulong Copied = 1UL << 63;

    /// <summary>The L2 entry describes a compressed cluster.</summary>
    public const ulong Compressed = 1UL << 62;

    /// <summary>v3: the cluster reads as zeroes.</summary>
    public const ulong ZeroFlag = 1UL;

    public const ulong L1ReservedMask = 0x7f00_0000_0000_01ff;
    public const ulong L2StandardReservedMask = 0x3f00_0000_0000_01fe;
    public const ulong RefTableReservedMask = 0x1ff;

    /// <summary>The feature name table QEMU 7.2 writes: (type, bit, name); type 0 incompatible, 1 compatible, 2 autoclear.</summary>
    public static readonly (byte Type, byte Bit, string Name)[] FeatureNames =
    [
        (0, 0, "dirty bit"),
        (0, 1, "corrupt bit"),
        (0, 2, "external data file"),
        (0, 3, "compression type"),
        (0, 4, "extended L2 entries"),
        (1, 0, "lazy refcounts"),
        (2, 0, "bitmaps"),
        (2, 1, "raw external data"),
    ];
}
