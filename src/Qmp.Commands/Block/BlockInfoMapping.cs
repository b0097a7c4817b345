using Qmp.Block;
using Qmp.Block.Backends;
using Qmp.Block.File;
using Qmp.Schema;

namespace Qmp.Commands.Block;

/// <summary>The block layer's state in the shapes of query-block, query-named-block-nodes and query-blockstats.</summary>
internal static class BlockInfoMapping
{
    public static BlockDeviceInfo DeviceInfo(BlockNode node, bool flat, BlockBackend? backend = null)
    {
        var depth = 0;
        for (var b = node.Backing; b is not null; b = b.Backing)
            depth++;
        var file = FileNode.Under(node);
        var filename = Filename(node);
        return new BlockDeviceInfo
        {
            File = filename,
            NodeName = node.NodeName,
            Ro = node.ReadOnly,
            Drv = node.DriverName,
            BackingFile = node.Backing?.Filename,
            BackingFileDepth = depth,
            Active = node.Activation == BlockActivation.Active,
            Encrypted = false,
            DetectZeroes = node.DetectZeroes switch
            {
                DetectZeroes.On => BlockdevDetectZeroesOptions.On,
                DetectZeroes.Unmap => BlockdevDetectZeroesOptions.Unmap,
                _ => BlockdevDetectZeroesOptions.Off,
            },
            Bps = 0,
            BpsRd = 0,
            BpsWr = 0,
            Iops = 0,
            IopsRd = 0,
            IopsWr = 0,
            Image = Image(node.DescribeImage() with { Filename = filename }, flat),
            Cache = new BlockdevCacheInfo
            {
                // QEMU reports writeback from the device's write cache setting; nodes without a device are writeback.
                Writeback = true,
                Direct = file?.Direct ?? false,
                NoFlush = file?.NoFlush ?? false,
            },
            WriteThreshold = 0,
        };
    }

    public static ImageInfo Image(BlockImageInfo info, bool flat) => new()
    {
        Filename = info.Filename,
        Format = info.Format,
        // QEMU reports the flag for every format, false where the format has none.
        DirtyFlag = info.DirtyFlag ?? false,
        ActualSize = info.ActualSize,
        VirtualSize = info.VirtualSize,
        ClusterSize = info.ClusterSize,
        BackingFilename = info.BackingFilename,
        FullBackingFilename = info.FullBackingFilename,
        BackingFilenameFormat = info.BackingFilenameFormat,
        Snapshots = info.Snapshots.Count == 0 ? null : info.Snapshots.Select(s => new SnapshotInfo
        {
            Id = s.Id,
            Name = s.Name,
            VmStateSize = s.VmStateSize,
            DateSec = s.DateSeconds,
            DateNsec = s.DateNanoseconds,
            VmClockSec = s.VmClockNanoseconds / 1_000_000_000,
            VmClockNsec = s.VmClockNanoseconds % 1_000_000_000,
            Icount = s.Icount,
        }).ToList(),
        BackingImage = flat || info.BackingImage is null ? null : Image(info.BackingImage, false),
        FormatSpecific = info.Qcow2 is { } q ? new ImageInfoSpecific
        {
            Type = ImageInfoSpecificKind.Qcow2,
            Qcow2 = new ImageInfoSpecificQCow2Wrapper
            {
                Data = new ImageInfoSpecificQCow2
                {
                    Compat = q.Compat,
                    // v2 images have no feature bits, so QEMU leaves these out for compat 0.10.
                    LazyRefcounts = q.Compat == "0.10" ? null : q.LazyRefcounts,
                    Corrupt = q.Compat == "0.10" ? null : q.Corrupt,
                    RefcountBits = q.RefcountBits,
                    ExtendedL2 = q.Compat == "0.10" ? null : q.ExtendedL2,
                    CompressionType = q.CompressionType == "zstd" ? Qcow2CompressionType.Zstd : Qcow2CompressionType.Zlib,
                },
            },
        } : null,
    };

    // Nodes without a backend do not account invalid or failed requests (QEMU's defaults apply to backends only).
    public static BlockDeviceStats Stats(BlockAccounting? stats, long highestOffset) => new()
    {
        RdBytes = stats?.ReadBytes ?? 0,
        WrBytes = stats?.WriteBytes ?? 0,
        UnmapBytes = stats?.UnmapBytes ?? 0,
        RdOperations = stats?.ReadOperations ?? 0,
        WrOperations = stats?.WriteOperations ?? 0,
        FlushOperations = stats?.FlushOperations ?? 0,
        UnmapOperations = stats?.UnmapOperations ?? 0,
        RdTotalTimeNs = stats?.ReadTotalTimeNs ?? 0,
        WrTotalTimeNs = stats?.WriteTotalTimeNs ?? 0,
        FlushTotalTimeNs = stats?.FlushTotalTimeNs ?? 0,
        UnmapTotalTimeNs = stats?.UnmapTotalTimeNs ?? 0,
        WrHighestOffset = highestOffset,
        RdMerged = 0,
        WrMerged = 0,
        UnmapMerged = 0,
        IdleTimeNs = stats?.IdleTimeNs,
        FailedRdOperations = stats?.FailedReadOperations ?? 0,
        FailedWrOperations = stats?.FailedWriteOperations ?? 0,
        FailedFlushOperations = stats?.FailedFlushOperations ?? 0,
        FailedUnmapOperations = stats?.FailedUnmapOperations ?? 0,
        InvalidRdOperations = 0,
        InvalidWrOperations = 0,
        InvalidFlushOperations = 0,
        InvalidUnmapOperations = 0,
        AccountInvalid = stats is not null,
        AccountFailed = stats is not null,
        TimedStats = [],
    };

    // Node statistics, with the protocol child as "parent" and, for backends, the backing chain as "backing" (QEMU's bdrv_query_bds_stats).
    public static BlockStats NodeStats(BlockNode node, BlockAccounting? accounting, bool withBacking) => new()
    {
        NodeName = node.NodeName,
        Stats = Stats(accounting, accounting?.WriteHighestOffset ?? node.WriteHighestOffset),
        Parent = node.File is { } file ? NodeStats(file, null, withBacking) : null,
        Backing = withBacking && node.Backing is { } backing ? NodeStats(backing, null, withBacking) : null,
        DriverSpecific = node is FileNode protocol ? new BlockStatsSpecific
        {
            Driver = BlockdevDriver.File,
            File = new BlockStatsSpecificFile
            {
                DiscardNbOk = (ulong)protocol.DiscardsSucceeded,
                DiscardNbFailed = (ulong)protocol.DiscardsFailed,
                DiscardBytesOk = (ulong)protocol.DiscardedBytes,
            },
        } : null,
    };

    // QEMU names a node whose options change what the file shows (a raw window) by its options: "json:{...}".
    private static string Filename(BlockNode node)
    {
        if (node is not Qmp.Block.Raw.RawNode { } raw || (raw.Offset == 0 && raw.Size is null) || raw.File is not FileNode file)
            return node.Filename;
        var options = new System.Text.Json.Nodes.JsonObject { ["driver"] = "raw" };
        if (raw.Offset != 0)
            options["offset"] = raw.Offset;
        if (raw.Size is { } size)
            options["size"] = size;
        options["file"] = new System.Text.Json.Nodes.JsonObject { ["driver"] = "file", ["filename"] = file.Filename };
        return "json:" + Qmp.Schema.Json.QmpJsonWriter.ToJsonString(options);
    }

}
