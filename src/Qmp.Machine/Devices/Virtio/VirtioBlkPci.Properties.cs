using System.Text.Json;
using System.Text.Json.Nodes;
using Qmp.Block.Backends;
using Qmp.Machine.Qom;

namespace Qmp.Machine.Devices.Virtio;

// The qdev properties of virtio-blk-device as QEMU 7.2 names, types and defaults them; frozen at realize.
public sealed partial class VirtioBlkPci
{
    private VirtioBlkConf Conf => Blk.Conf;

    /// <summary>QEMU's <c>drive</c>: a <c>-drive</c> id or a node name; required.</summary>
    public string? Drive { get => Conf.Drive; set => Update("drive", () => Conf.Drive = value); }

    /// <summary>QEMU's <c>num-queues</c>; 65535 (auto) gives one queue.</summary>
    public ushort NumQueues { get => Conf.NumQueues; set => Update("num-queues", () => Conf.NumQueues = value); }

    /// <summary>QEMU's <c>queue-size</c>: a power of two from 4 to 1024 (default 256).</summary>
    public ushort QueueSize { get => Conf.QueueSize; set => Update("queue-size", () => Conf.QueueSize = value); }

    /// <summary>QEMU's <c>serial</c>, which GET_ID returns (at most 20 bytes reach the guest).</summary>
    public string? Serial { get => Conf.Serial; set => Update("serial", () => Conf.Serial = value); }

    /// <summary>QEMU's <c>rerror</c>; null (auto) keeps the backend's policy (report for a -blockdev node).</summary>
    public BlockErrorPolicy? ReadErrorPolicy { get => Conf.ReadError; set => Update("rerror", () => Conf.ReadError = value); }

    /// <summary>QEMU's <c>werror</c>; null (auto) keeps the backend's policy (enospc for a -blockdev node).</summary>
    public BlockErrorPolicy? WriteErrorPolicy { get => Conf.WriteError; set => Update("werror", () => Conf.WriteError = value); }

    /// <summary>QEMU's <c>discard</c>: offer VIRTIO_BLK_F_DISCARD (on).</summary>
    public bool Discard { get => Conf.Discard; set => Update("discard", () => Conf.Discard = value); }

    /// <summary>QEMU's <c>write-zeroes</c>: offer VIRTIO_BLK_F_WRITE_ZEROES (on).</summary>
    public bool WriteZeroes { get => Conf.WriteZeroes; set => Update("write-zeroes", () => Conf.WriteZeroes = value); }

    /// <summary>QEMU's <c>config-wce</c>: let the driver switch the write cache through the config space (on).</summary>
    public bool ConfigWce { get => Conf.ConfigWce; set => Update("config-wce", () => Conf.ConfigWce = value); }

    /// <summary>QEMU's <c>write-cache</c>: writeback (true), writethrough (false) or the backend's mode (null, auto).</summary>
    public bool? WriteCache { get => Conf.WriteCache; set => Update("write-cache", () => Conf.WriteCache = value); }

    /// <summary>QEMU's <c>share-rw</c>: let other devices write the same node.</summary>
    public bool ShareRw { get => Conf.ShareRw; set => Update("share-rw", () => Conf.ShareRw = value); }

    /// <summary>QEMU's <c>logical_block_size</c>; 0 detects it (512 for a file).</summary>
    public uint LogicalBlockSize { get => Conf.LogicalBlockSize; set => Update("logical_block_size", () => Conf.LogicalBlockSize = value); }

    /// <summary>QEMU's <c>physical_block_size</c>; 0 detects it (512 for a file).</summary>
    public uint PhysicalBlockSize { get => Conf.PhysicalBlockSize; set => Update("physical_block_size", () => Conf.PhysicalBlockSize = value); }

    /// <summary>QEMU's <c>min_io_size</c> in bytes.</summary>
    public uint MinIoSize { get => Conf.MinIoSize; set => Update("min_io_size", () => Conf.MinIoSize = value); }

    /// <summary>QEMU's <c>opt_io_size</c> in bytes.</summary>
    public uint OptIoSize { get => Conf.OptIoSize; set => Update("opt_io_size", () => Conf.OptIoSize = value); }

    /// <summary>QEMU's <c>discard_granularity</c> in bytes; uint.MaxValue means the logical block size.</summary>
    public uint DiscardGranularity { get => Conf.DiscardGranularity; set => Update("discard_granularity", () => Conf.DiscardGranularity = value); }

    /// <summary>QEMU's <c>cyls</c>; with heads and secs all 0 the geometry is guessed.</summary>
    public uint Cylinders { get => Conf.Cylinders; set => Update("cyls", () => Conf.Cylinders = value); }

    /// <summary>QEMU's <c>heads</c>.</summary>
    public uint Heads { get => Conf.Heads; set => Update("heads", () => Conf.Heads = value); }

    /// <summary>QEMU's <c>secs</c>.</summary>
    public uint Sectors { get => Conf.Sectors; set => Update("secs", () => Conf.Sectors = value); }

    /// <summary>QEMU's <c>max-discard-sectors</c>.</summary>
    public uint MaxDiscardSectors { get => Conf.MaxDiscardSectors; set => Update("max-discard-sectors", () => Conf.MaxDiscardSectors = value); }

    /// <summary>QEMU's <c>max-write-zeroes-sectors</c>.</summary>
    public uint MaxWriteZeroesSectors { get => Conf.MaxWriteZeroesSectors; set => Update("max-write-zeroes-sectors", () => Conf.MaxWriteZeroesSectors = value); }

    /// <summary>QEMU's <c>seg-max-adjust</c>: seg_max is queue-size − 2 rather than 126 (on).</summary>
    public bool SegMaxAdjust { get => Conf.SegMaxAdjust; set => Update("seg-max-adjust", () => Conf.SegMaxAdjust = value); }

    /// <summary>QEMU's <c>request-merging</c>; accepted, requests are not merged here.</summary>
    public bool RequestMerging { get => Conf.RequestMerging; set => Update("request-merging", () => Conf.RequestMerging = value); }

    /// <summary>QEMU's <c>report-discard-granularity</c> (on).</summary>
    public bool ReportDiscardGranularity { get => Conf.ReportDiscardGranularity; set => Update("report-discard-granularity", () => Conf.ReportDiscardGranularity = value); }

    /// <inheritdoc/>
    public override IEnumerable<QomProperty> QomProperties() =>
    [
        .. base.QomProperties(),
        new("drive", "str", () => Drive, v => Drive = Text(v, "drive")),
        new("num-queues", "uint16", () => NumQueues, v => NumQueues = UInt16(v, "num-queues")),
        new("queue-size", "uint16", () => QueueSize, v => QueueSize = UInt16(v, "queue-size")),
        new("serial", "str", () => Serial, v => Serial = Text(v, "serial")),
        new("rerror", "BlockdevOnError", () => PolicyName(ReadErrorPolicy), v => ReadErrorPolicy = Policy(v, "rerror")),
        new("werror", "BlockdevOnError", () => PolicyName(WriteErrorPolicy), v => WriteErrorPolicy = Policy(v, "werror")),
        new("discard", "bool", () => Discard, v => Discard = QomValues.Bool(v, "discard")),
        new("write-zeroes", "bool", () => WriteZeroes, v => WriteZeroes = QomValues.Bool(v, "write-zeroes")),
        new("config-wce", "bool", () => ConfigWce, v => ConfigWce = QomValues.Bool(v, "config-wce")),
        new("write-cache", "OnOffAuto", () => WriteCache switch { true => "on", false => "off", null => "auto" }, v => WriteCache = OnOffAuto(v, "write-cache")),
        new("share-rw", "bool", () => ShareRw, v => ShareRw = QomValues.Bool(v, "share-rw")),
        new("logical_block_size", "size", () => LogicalBlockSize, v => LogicalBlockSize = QomValues.UInt32(v, "logical_block_size")),
        new("physical_block_size", "size", () => PhysicalBlockSize, v => PhysicalBlockSize = QomValues.UInt32(v, "physical_block_size")),
        new("min_io_size", "size", () => MinIoSize, v => MinIoSize = QomValues.UInt32(v, "min_io_size")),
        new("opt_io_size", "size", () => OptIoSize, v => OptIoSize = QomValues.UInt32(v, "opt_io_size")),
        new("discard_granularity", "size", () => DiscardGranularity, v => DiscardGranularity = QomValues.UInt32(v, "discard_granularity")),
        new("cyls", "uint32", () => Cylinders, v => Cylinders = QomValues.UInt32(v, "cyls")),
        new("heads", "uint32", () => Heads, v => Heads = QomValues.UInt32(v, "heads")),
        new("secs", "uint32", () => Sectors, v => Sectors = QomValues.UInt32(v, "secs")),
        new("max-discard-sectors", "uint32", () => MaxDiscardSectors, v => MaxDiscardSectors = QomValues.UInt32(v, "max-discard-sectors")),
        new("max-write-zeroes-sectors", "uint32", () => MaxWriteZeroesSectors, v => MaxWriteZeroesSectors = QomValues.UInt32(v, "max-write-zeroes-sectors")),
        new("seg-max-adjust", "bool", () => SegMaxAdjust, v => SegMaxAdjust = QomValues.Bool(v, "seg-max-adjust")),
        new("request-merging", "bool", () => RequestMerging, v => RequestMerging = QomValues.Bool(v, "request-merging")),
        new("report-discard-granularity", "bool", () => ReportDiscardGranularity, v => ReportDiscardGranularity = QomValues.Bool(v, "report-discard-granularity")),
    ];

    private static string? Text(JsonNode? value, string name) => value switch
    {
        // Unset reads as null; writing that back leaves it unset.
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new MachineOperationException($"Invalid parameter type for '{name}', expected: string"),
    };

    private static ushort UInt16(JsonNode? value, string name) =>
        QomValues.UInt32(value, name) is var n and <= ushort.MaxValue ? (ushort)n : throw new MachineOperationException($"Parameter '{name}' expects uint16_t");

    private static string PolicyName(BlockErrorPolicy? policy) => policy switch
    {
        BlockErrorPolicy.Report => "report",
        BlockErrorPolicy.Ignore => "ignore",
        BlockErrorPolicy.Enospc => "enospc",
        BlockErrorPolicy.Stop => "stop",
        _ => "auto",
    };

    // BlockdevOnError.
    private static BlockErrorPolicy? Policy(JsonNode? value, string name) => Text(value, name) switch
    {
        "report" => BlockErrorPolicy.Report,
        "ignore" => BlockErrorPolicy.Ignore,
        "enospc" => BlockErrorPolicy.Enospc,
        "stop" => BlockErrorPolicy.Stop,
        "auto" => null,
        var other => throw new MachineOperationException($"Parameter '{name}' does not accept value '{other}'"),
    };

    private static bool? OnOffAuto(JsonNode? value, string name) => Text(value, name) switch
    {
        "on" => true,
        "off" => false,
        "auto" => null,
        var other => throw new MachineOperationException($"Parameter '{name}' does not accept value '{other}'"),
    };

    private void Update(string property, Action apply)
    {
        CheckNotRealized(property);
        apply();
    }
}
