using System.Buffers.Binary;
using Qmp.Block.Backends;
using static Qmp.Machine.Devices.Virtio.VirtioBlkProtocol;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// QEMU's <c>virtio-blk-device</c> (virtio id 2) over a <see cref="BlockBackend"/>: <c>num-queues</c> request
/// queues of <c>queue-size</c>, the virtio_blk_config space, and IN, OUT, FLUSH, GET_ID, DISCARD and
/// WRITE_ZEROES requests. Requests are parsed on the machine thread, run on the thread pool through the
/// backend and completed back on the machine thread; guest memory is only touched on the machine thread.
/// </summary>
/// <remarks>
/// Failed requests follow rerror/werror through <see cref="BlockBackend.HandleError"/>; under a stop policy
/// they are kept and resubmitted when the machine resumes (QEMU's virtio_blk_dma_restart_cb), and they
/// migrate. The device cooperates with drained sections as <see cref="IBlockDevicePort"/> asks.
/// </remarks>
internal sealed partial class VirtioBlk : VirtioDevice
{
    private ushort[] _queueSizes = [];
    private ulong _features;
    private int _configSize;
    private ushort _numQueues = 1;
    private bool _readOnly;
    private bool _originalWriteCache = true;
    private bool _writeCache = true;
    private bool? _writeCacheAtDriverOk;
    private uint _logicalBlockSize = SectorSize;
    private uint _physicalBlockSize = SectorSize;
    private uint _cylinders;
    private uint _heads;
    private uint _sectors;
    private BlockBackend? _backend;
    private IMachineControl? _control;

    // Bumped by reset and by a state load: completions of requests issued before leave the rings alone.
    private int _generation;

    public override ushort DeviceType => 2;

    public override IReadOnlyList<ushort> QueueSizes => _queueSizes;

    public override ulong DeviceFeatures => _features;

    public override int ConfigSize => _configSize;

    /// <summary>The qdev properties; the PCI proxy freezes them at realize.</summary>
    public VirtioBlkConf Conf { get; } = new();

    /// <summary>The PCI proxy device, whose QOM path the backend child hangs below.</summary>
    public VirtioBlkPci? Proxy { get; set; }

    /// <summary>The backend the device is attached to while realized.</summary>
    internal BlockBackend? DriveBackend => _backend;

    /// <summary>Whether the guest's writes go through a volatile cache (config wce; false means writethrough, FUA on every write).</summary>
    internal bool WriteCacheEnabled => WriteCache;

    /// <summary>Requests kept after a stop policy, waiting for the machine to resume.</summary>
    internal int KeptRequests => _kept.Count;

    /// <summary>Requests parsed but not issued yet (drained section, memory budget).</summary>
    internal int PendingRequests => _pending.Count;

    // The cache mode, once a driver without CONFIG_WCE has reached DRIVER_OK with the mode it negotiated:
    // QEMU's virtio_blk_set_status applies it then, and the device only looks when the mode matters.
    private bool WriteCache
    {
        get
        {
            if (_writeCacheAtDriverOk is { } negotiated && DriverOk)
            {
                _writeCache = negotiated;
                _writeCacheAtDriverOk = null;
            }
            return _writeCache;
        }
    }

    private ulong CapacitySectors => VirtioBlkGeometry.Sectors(_backend?.Root?.Length ?? 0);

    private uint SectorMask => (_logicalBlockSize / SectorSize) - 1;

    /// <inheritdoc/>
    protected internal override void ReadConfig(Span<byte> config)
    {
        // virtio_blk_update_config: the full structure, of which the transport shows ConfigSize bytes.
        Span<byte> blk = stackalloc byte[ConfigFullSize];
        blk.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(blk, CapacitySectors);
        // size_max stays 0: QEMU does not offer VIRTIO_BLK_F_SIZE_MAX.
        BinaryPrimitives.WriteUInt32LittleEndian(blk[12..], Conf.SegMaxAdjust ? (uint)Conf.QueueSize - 2 : 128 - 2);
        BinaryPrimitives.WriteUInt16LittleEndian(blk[16..], (ushort)_cylinders);
        blk[18] = (byte)_heads;
        blk[19] = (byte)GeometrySectors();
        BinaryPrimitives.WriteUInt32LittleEndian(blk[20..], _logicalBlockSize);
        blk[24] = PhysicalBlockExponent();
        BinaryPrimitives.WriteUInt16LittleEndian(blk[26..], (ushort)(Conf.MinIoSize / _logicalBlockSize));
        BinaryPrimitives.WriteUInt32LittleEndian(blk[28..], Conf.OptIoSize / _logicalBlockSize);
        blk[ConfigWceOffset] = WriteCache ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt16LittleEndian(blk[34..], _numQueues);
        if (Conf.Discard)
        {
            var granularity = Conf.DiscardGranularity == uint.MaxValue || !Conf.ReportDiscardGranularity ? _logicalBlockSize : Conf.DiscardGranularity;
            BinaryPrimitives.WriteUInt32LittleEndian(blk[36..], Conf.MaxDiscardSectors);
            // One segment per request, as QEMU: no userspace API submits several.
            BinaryPrimitives.WriteUInt32LittleEndian(blk[40..], 1);
            BinaryPrimitives.WriteUInt32LittleEndian(blk[44..], granularity >> SectorBits);
        }
        if (Conf.WriteZeroes)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(blk[48..], Conf.MaxWriteZeroesSectors);
            BinaryPrimitives.WriteUInt32LittleEndian(blk[52..], 1);
            blk[56] = 1;
        }
        blk[..config.Length].CopyTo(config);
    }

    /// <inheritdoc/>
    protected internal override void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        // virtio_blk_set_config: of the whole structure only wce is the driver's to change.
        if (offset <= ConfigWceOffset && offset + data.Length > ConfigWceOffset)
        {
            _ = WriteCache;
            _writeCache = data[ConfigWceOffset - offset] != 0;
        }
    }

    /// <inheritdoc/>
    protected internal override bool ValidateFeatures(ulong features)
    {
        // A driver without CONFIG_WCE gets the cache mode it negotiated (writeback with FLUSH, writethrough
        // without) at DRIVER_OK; one with CONFIG_WCE sets it through the config space.
        _writeCacheAtDriverOk = (features & FeatureConfigWce) == 0 ? (features & FeatureFlush) != 0 : null;
        return true;
    }

    /// <inheritdoc/>
    protected internal override void OnReset()
    {
        // QEMU drains the backend here; requests still running are abandoned instead: their completion
        // sees a new generation and neither writes guest memory nor touches the (reset) rings.
        _generation++;
        _kept.Clear();
        _pending.Clear();
        _active.Clear();
        _writeCache = _originalWriteCache;
        _writeCacheAtDriverOk = null;
    }

    // The sectors per track the config shows: QEMU masks them to the logical block size when the
    // capacity is not a whole number of blocks per track.
    private uint GeometrySectors()
    {
        var length = _backend?.Root?.Length ?? 0;
        if (length > 0 && _heads != 0 && _sectors != 0 && length / _heads / _sectors % _logicalBlockSize != 0)
            return _sectors & ~SectorMask;
        return _sectors;
    }

    private byte PhysicalBlockExponent()
    {
        byte exponent = 0;
        for (var size = _physicalBlockSize; size > _logicalBlockSize; size >>= 1)
            exponent++;
        return exponent;
    }
}
