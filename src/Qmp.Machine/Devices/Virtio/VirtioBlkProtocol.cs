namespace Qmp.Machine.Devices.Virtio;

/// <summary>The virtio-blk wire format (VIRTIO 1.x §5.2, linux/virtio_blk.h) and QEMU's limits around it.</summary>
internal static class VirtioBlkProtocol
{
    // Feature bits the device may offer (VIRTIO_BLK_F_*).
    public const ulong FeatureSegMax = 1UL << 2;
    public const ulong FeatureGeometry = 1UL << 4;
    public const ulong FeatureReadOnly = 1UL << 5;
    public const ulong FeatureBlockSize = 1UL << 6;
    public const ulong FeatureFlush = 1UL << 9;
    public const ulong FeatureTopology = 1UL << 10;
    public const ulong FeatureConfigWce = 1UL << 11;
    public const ulong FeatureMultiQueue = 1UL << 12;
    public const ulong FeatureDiscard = 1UL << 13;
    public const ulong FeatureWriteZeroes = 1UL << 14;

    // Request types (VIRTIO_BLK_T_*); OUT is the direction bit, BARRIER a legacy flag QEMU ignores.
    public const uint TypeIn = 0;
    public const uint TypeOut = 1;
    public const uint TypeFlush = 4;
    public const uint TypeGetId = 8;
    public const uint TypeDiscard = 11;
    public const uint TypeWriteZeroes = 13;
    public const uint TypeBarrier = 0x80000000;

    // The status byte at the end of the device-writable part.
    public const byte StatusOk = 0;
    public const byte StatusIoError = 1;
    public const byte StatusUnsupported = 2;

    /// <summary>VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, the only segment flag defined.</summary>
    public const uint SegmentFlagUnmap = 1;

    /// <summary>struct virtio_blk_outhdr: type, ioprio, sector.</summary>
    public const int OutHeaderSize = 16;

    /// <summary>struct virtio_blk_discard_write_zeroes: sector, num_sectors, flags.</summary>
    public const int SegmentSize = 16;

    /// <summary>VIRTIO_BLK_ID_BYTES: the most GET_ID returns.</summary>
    public const int IdBytes = 20;

    public const int SectorBits = 9;
    public const int SectorSize = 1 << SectorBits;

    /// <summary>QEMU's BDRV_REQUEST_MAX_SECTORS: the largest request the block layer takes.</summary>
    public const uint RequestMaxSectors = int.MaxValue >> SectorBits;

    /// <summary>QEMU's VIRTIO_BLK_AUTO_NUM_QUEUES: num-queues left to the machine.</summary>
    public const ushort AutoNumQueues = ushort.MaxValue;

    // struct virtio_blk_config: its full size, and where the optional parts end (QEMU's config size
    // is the minimum, up to num_queues, grown to cover what the offered features need).
    public const int ConfigFullSize = 60;
    public const int ConfigMinSize = 36;
    public const int ConfigDiscardEnd = 48;
    public const int ConfigWriteZeroesEnd = 57;
    public const int ConfigWceOffset = 32;
}
