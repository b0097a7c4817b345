using Qmp.Block;
using Qmp.Block.Backends;
using static Qmp.Machine.Devices.Virtio.VirtioBlkProtocol;

namespace Qmp.Machine.Devices.Virtio;

internal sealed partial class VirtioBlk
{
    private const uint MaxBlockSize = 2 * 1024 * 1024;

    /// <summary>
    /// The part of QEMU's realize that settles what the transport reads when it attaches (the queues and the
    /// features): the drive, its medium, num-queues and queue-size. Every step is undone through
    /// <paramref name="scope"/>. The drive errors are those of QEMU's drive property (set_drive_helper).
    /// </summary>
    public void Claim(RealizeScope scope)
    {
        var conf = Conf;
        if (string.IsNullOrEmpty(conf.Drive))
            throw new DeviceRealizeException("drive property not set");
        var graph = scope.Context.Block;
        // QEMU's drive property lives on the virtio-blk-device child the PCI proxy aliases it to.
        var backend = graph.ResolveDrive(conf.Drive)
            ?? throw new DeviceRealizeException($"Property 'virtio-blk-device.drive' can't find value '{conf.Drive}'");
        // Only a named drive can come back with a device: a node name always gets a new anonymous backend.
        if (backend.Device is not null)
            throw new DeviceRealizeException($"Drive '{conf.Drive}' is already in use by another device");
        backend.AttachDevice(this);
        scope.OnUndo(() => graph.ReleaseDrive(backend));
        // A section that covers the backend already holds it through the backend's own flag.
        _quiesced = false;
        _backend = backend;
        scope.OnUndo(() => _backend = null);
        if (backend.Root is not { } root)
            throw new DeviceRealizeException("Device needs media, but drive is empty");

        var numQueues = conf.NumQueues == AutoNumQueues ? (ushort)1 : conf.NumQueues;
        if (numQueues == 0)
            throw new DeviceRealizeException("num-queues property must be larger than 0");
        if (numQueues > SplitVirtqueue.MaxQueueSize)
            throw new DeviceRealizeException($"num-queues property must be at most {SplitVirtqueue.MaxQueueSize}");
        if (conf.QueueSize <= 2)
            throw new DeviceRealizeException($"invalid queue-size property ({conf.QueueSize}), must be > 2");
        if (!ushort.IsPow2(conf.QueueSize) || conf.QueueSize > SplitVirtqueue.MaxQueueSize)
            throw new DeviceRealizeException($"invalid queue-size property ({conf.QueueSize}), must be a power of 2 (max {SplitVirtqueue.MaxQueueSize})");
        _numQueues = numQueues;
        _queueSizes = [.. Enumerable.Repeat(conf.QueueSize, numQueues)];

        _readOnly = backend.ReadOnly || root.ReadOnly;
        // write-cache=auto takes the backend's mode, which is writeback for -blockdev and cache=writeback drives.
        _originalWriteCache = _writeCache = conf.WriteCache ?? true;
        _features = BlkFeatures(conf);
        _configSize = Math.Max(ConfigMinSize, Math.Max(conf.Discard ? ConfigDiscardEnd : 0, conf.WriteZeroes ? ConfigWriteZeroesEnd : 0));
        scope.OnUndo(() =>
        {
            _queueSizes = [];
            _features = 0;
            _configSize = 0;
        });
    }

    /// <summary>The rest of QEMU's virtio_blk_device_realize, once the transport has attached the queues.</summary>
    protected internal override void RealizeBackend(RealizeScope scope)
    {
        var backend = _backend ?? throw new InvalidOperationException("virtio-blk realizes through its PCI proxy");
        var root = backend.Root!;
        var conf = Conf;
        CheckPermissions(backend, root);

        // blkconf_apply_backend_options: rerror/werror=auto keep the backend's policy.
        var (readPolicy, writePolicy) = (backend.ReadErrorPolicy, backend.WriteErrorPolicy);
        backend.ReadErrorPolicy = conf.ReadError ?? readPolicy;
        backend.WriteErrorPolicy = conf.WriteError ?? writePolicy;
        scope.OnUndo(() => (backend.ReadErrorPolicy, backend.WriteErrorPolicy) = (readPolicy, writePolicy));

        // blkconf_geometry(conf, NULL, 65535, 255, 255).
        var (cylinders, heads, sectors) = (conf.Cylinders, conf.Heads, conf.Sectors);
        if (cylinders == 0 && heads == 0 && sectors == 0)
            (cylinders, heads, sectors) = VirtioBlkGeometry.Guess(root);
        if (cylinders is < 1 or > 65535)
            throw new DeviceRealizeException("cyls must be between 1 and 65535");
        if (heads is < 1 or > 255)
            throw new DeviceRealizeException("heads must be between 1 and 255");
        if (sectors is < 1 or > 255)
            throw new DeviceRealizeException("secs must be between 1 and 255");

        // blkconf_blocksizes: a regular file probes no block sizes, so unset ones are 512.
        var logical = CheckBlockSize("logical_block_size", conf.LogicalBlockSize);
        var physical = CheckBlockSize("physical_block_size", conf.PhysicalBlockSize);
        if (logical > physical)
            throw new DeviceRealizeException("logical_block_size > physical_block_size not supported");
        if (conf.MinIoSize % logical != 0)
            throw new DeviceRealizeException("min_io_size must be a multiple of logical_block_size");
        if (conf.MinIoSize / logical > ushort.MaxValue)
            throw new DeviceRealizeException($"min_io_size must not exceed {ushort.MaxValue} logical blocks");
        if (conf.OptIoSize % logical != 0)
            throw new DeviceRealizeException("opt_io_size must be a multiple of logical_block_size");
        if (conf.DiscardGranularity != uint.MaxValue && conf.DiscardGranularity % logical != 0)
            throw new DeviceRealizeException("discard_granularity must be a multiple of logical_block_size");
        if (conf.Discard && conf.MaxDiscardSectors is 0 or > RequestMaxSectors)
            throw new DeviceRealizeException($"invalid max-discard-sectors property ({conf.MaxDiscardSectors}), must be between 1 and {RequestMaxSectors}");
        if (conf.WriteZeroes && conf.MaxWriteZeroesSectors is 0 or > RequestMaxSectors)
            throw new DeviceRealizeException($"invalid max-write-zeroes-sectors property ({conf.MaxWriteZeroesSectors}), must be between 1 and {RequestMaxSectors}");
        (_cylinders, _heads, _sectors) = (cylinders, heads, sectors);
        (_logicalBlockSize, _physicalBlockSize) = (logical, physical);

        var control = scope.Context.Control;
        _control = control;
        control.Resumed += OnResumed;
        scope.OnUndo(() =>
        {
            control.Resumed -= OnResumed;
            _control = null;
            // Requests still running complete into nothing; kept ones are dropped (unrealize cannot fail).
            _generation++;
            _kept.Clear();
            _pending.Clear();
            _active.Clear();
        });
    }

    // virtio_blk_get_features: the fixed set, then what the properties and the backend add.
    private ulong BlkFeatures(VirtioBlkConf conf)
    {
        var features = FeatureSegMax | FeatureGeometry | FeatureTopology | FeatureBlockSize;
        // x-enable-wce-if-config-wce (on): FLUSH is offered whenever the driver can switch the cache.
        if (_writeCache || conf.ConfigWce)
            features |= FeatureFlush;
        if (conf.ConfigWce)
            features |= FeatureConfigWce;
        if (_readOnly)
            features |= FeatureReadOnly;
        if (_numQueues > 1)
            features |= FeatureMultiQueue;
        if (conf.Discard)
            features |= FeatureDiscard;
        if (conf.WriteZeroes)
            features |= FeatureWriteZeroes;
        return features;
    }

    // QEMU's permission check when the device takes its node: a writer conflicts with another user that
    // does not share writes (share-rw). The text is bdrv_a_allow_b's: the user that requires the write,
    // then the one that does not share it, the existing user's write checked first.
    private void CheckPermissions(BlockBackend backend, BlockNode root)
    {
        foreach (var user in root.Users)
        {
            if (user is not BlockBackend other || ReferenceEquals(other, backend) || other.Device is not { } device)
                continue;
            var otherBlk = device as VirtioBlk;
            var otherWrites = otherBlk is not null ? !otherBlk._readOnly : !(other.ReadOnly || root.ReadOnly);
            var otherShares = otherBlk?.Conf.ShareRw ?? false;
            if (otherWrites && !Conf.ShareRw)
                throw PermissionConflict(root, other, backend);
            if (!_readOnly && !otherShares)
                throw PermissionConflict(root, backend, other);
        }
    }

    private static DeviceRealizeException PermissionConflict(BlockNode root, BlockBackend writer, BlockBackend refuser) => new(
        $"Permission conflict on node '{root.NodeName}': permissions 'write' are both required by {ParentDescription(writer)} " +
        $"(uses node '{root.NodeName}' as 'root' child) and unshared by {ParentDescription(refuser)} (uses node '{root.NodeName}' as 'root' child).");

    // blk_root_get_parent_desc: the drive name, else the attached device.
    private static string ParentDescription(BlockBackend backend) =>
        backend.Name.Length > 0 ? $"block device '{backend.Name}'"
        : backend.Device is { } device ? $"block device '{device.QomPath}'"
        : "an unnamed block device";

    // check_block_size: 0 is unset (512 here), anything else a power of two in QEMU's range.
    private static uint CheckBlockSize(string name, uint value)
    {
        if (value == 0)
            return SectorSize;
        // QEMU checks while setting the property, before the device has its id: the id part is always empty.
        if (value is < SectorSize or > MaxBlockSize)
            throw new DeviceRealizeException($"Property .{name} doesn't take value {value} (minimum: {SectorSize}, maximum: {MaxBlockSize})");
        if (!uint.IsPow2(value))
            throw new DeviceRealizeException($"Property .{name} doesn't take value '{value}', it's not a power of 2");
        return value;
    }
}
