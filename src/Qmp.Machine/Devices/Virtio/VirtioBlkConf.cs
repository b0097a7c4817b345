using Qmp.Block.Backends;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// The qdev properties of a virtio-blk device (QEMU's VirtIOBlkConf with its BlockConf), with QEMU 7.2's
/// defaults. Zero block sizes and geometry mean "detect at realize"; null policies and write cache mean auto.
/// </summary>
internal sealed class VirtioBlkConf
{
    public string? Drive { get; set; }

    public ushort NumQueues { get; set; } = VirtioBlkProtocol.AutoNumQueues;

    public ushort QueueSize { get; set; } = 256;

    public string? Serial { get; set; }

    public BlockErrorPolicy? ReadError { get; set; }

    public BlockErrorPolicy? WriteError { get; set; }

    public bool Discard { get; set; } = true;

    public bool WriteZeroes { get; set; } = true;

    public bool ConfigWce { get; set; } = true;

    public bool? WriteCache { get; set; }

    public bool ShareRw { get; set; }

    public bool SegMaxAdjust { get; set; } = true;

    public bool RequestMerging { get; set; } = true;

    public bool ReportDiscardGranularity { get; set; } = true;

    public uint LogicalBlockSize { get; set; }

    public uint PhysicalBlockSize { get; set; }

    public uint MinIoSize { get; set; }

    public uint OptIoSize { get; set; }

    /// <summary>uint.MaxValue (QEMU's -1) means "the logical block size".</summary>
    public uint DiscardGranularity { get; set; } = uint.MaxValue;

    public uint Cylinders { get; set; }

    public uint Heads { get; set; }

    public uint Sectors { get; set; }

    public uint MaxDiscardSectors { get; set; } = VirtioBlkProtocol.RequestMaxSectors;

    public uint MaxWriteZeroesSectors { get; set; } = VirtioBlkProtocol.RequestMaxSectors;
}
