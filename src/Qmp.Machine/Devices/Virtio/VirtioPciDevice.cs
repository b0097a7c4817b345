using System.Buffers.Binary;
using Qmp.Machine.Devices.Pc;
using Qmp.Machine.Devices.Pci;
using Qmp.Memory;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// The modern virtio-pci transport (VIRTIO 1.x §4.1) as QEMU lays it out with <c>disable-legacy=on</c>:
/// vendor 0x1AF4, device 0x1040 + the virtio device id, revision 1, INTA; one 64-bit prefetchable
/// memory BAR 4 of 16 KiB holding the common configuration (0x0000), ISR (0x1000), device
/// configuration (0x2000) and notification (0x3000, notify_off_multiplier 4, queue n at n × 4)
/// structures, each 4 KiB and described by a vendor capability, plus the PCI configuration access
/// capability. MSI-X is not implemented: the vectors read NO_VECTOR and interrupts are INTx, which
/// follows ISR bit 0 and drops when the driver reads the ISR.
/// </summary>
/// <remarks>
/// Queue notifications are MMIO writes on the machine thread and reach <see cref="VirtioDevice.OnQueueNotify"/>
/// directly. Writing 0 to device_status resets the device; FEATURES_OK sticks only if the driver accepted
/// VIRTIO_F_VERSION_1 and nothing that was not offered. Clearing bus mastering clears DRIVER_OK, as in QEMU.
/// </remarks>
public abstract class VirtioPciDevice : PciDevice, IVirtioTransport
{
    private const int ModernBar = 4;
    private const ulong BarSize = 0x4000;
    private const int RegionSize = 0x1000;
    private const int CommonOffset = 0x0000;
    private const int IsrOffset = 0x1000;
    private const int DeviceOffset = 0x2000;
    private const int NotifyOffset = 0x3000;
    private const int NotifyOffMultiplier = 4;
    private const int QueueLimit = 1024;
    private const ushort NoVector = 0xFFFF;

    private const byte VendorCapability = 0x09;
    private const byte CapCommonCfg = 1, CapNotifyCfg = 2, CapIsrCfg = 3, CapDeviceCfg = 4, CapPciCfg = 5;
    private const int CapBar = 4, CapOffset = 8, CapLength = 12, CapData = 16;

    // Common configuration structure (VIRTIO 1.x §4.1.4.3).
    private const int DeviceFeatureSelect = 0x00, DeviceFeature = 0x04, DriverFeatureSelect = 0x08, DriverFeature = 0x0C;
    private const int ConfigMsixVector = 0x10, NumQueues = 0x12, DeviceStatus = 0x14, ConfigGeneration = 0x15;
    private const int QueueSelect = 0x16, QueueSize = 0x18, QueueMsixVector = 0x1A, QueueEnable = 0x1C, QueueNotifyOff = 0x1E;
    private const int QueueDescLo = 0x20, QueueDescHi = 0x24, QueueDriverLo = 0x28, QueueDriverHi = 0x2C, QueueDeviceLo = 0x30, QueueDeviceHi = 0x34;

    private readonly VirtioDevice _backend;
    private readonly uint[] _driverFeatures = new uint[2];
    private bool _indirectDescriptors = true;
    private bool _eventIndex = true;
    private uint _deviceFeatureSelect;
    private uint _driverFeatureSelect;
    private ushort _queueSelect;
    private int _pciCfgCapability;

    /// <summary>Binds <paramref name="backend"/>, which this transport owns from now on.</summary>
    protected VirtioPciDevice(VirtioDevice backend) => _backend = backend;

    /// <summary>The virtio device behind the transport.</summary>
    public VirtioDevice Backend => _backend;

    /// <summary>QEMU's <c>indirect_desc</c>: offer VIRTIO_F_INDIRECT_DESC (on by default).</summary>
    public bool IndirectDescriptors
    {
        get => _indirectDescriptors;
        set
        {
            CheckNotRealized("indirect_desc");
            _indirectDescriptors = value;
        }
    }

    /// <summary>QEMU's <c>event_idx</c>: offer VIRTIO_F_EVENT_IDX (on by default).</summary>
    public bool EventIndex
    {
        get => _eventIndex;
        set
        {
            CheckNotRealized("event_idx");
            _eventIndex = value;
        }
    }

    /// <inheritdoc/>
    public override int StateVersion => 1;

    AddressSpace IVirtioTransport.Memory => Context.Memory;

    /// <inheritdoc/>
    protected sealed override ushort VendorId => 0x1AF4;

    /// <inheritdoc/>
    protected sealed override ushort DeviceId => (ushort)(0x1040 + _backend.DeviceType);

    /// <inheritdoc/>
    protected sealed override byte Revision => 1;

    /// <inheritdoc/>
    protected sealed override byte InterruptPin => 1;

    private ulong DriverFeatures => ((ulong)_driverFeatures[1] << 32) | _driverFeatures[0];

    private SplitVirtqueue? SelectedQueue => _queueSelect < _backend.Queues.Count ? _backend.Queues[_queueSelect] : null;

    void IVirtioTransport.UpdateInterrupt(bool level) => SetIrq(level);

    /// <inheritdoc/>
    protected override void RealizePci(RealizeScope scope)
    {
        var transportFeatures = VirtioFeatures.VersionOne
            | (_indirectDescriptors ? VirtioFeatures.IndirectDescriptors : 0)
            | (_eventIndex ? VirtioFeatures.EventIndex : 0);
        _backend.Attach(this, transportFeatures);
        scope.OnUndo(() =>
        {
            _backend.Reset();
            _backend.Detach();
        });
        _backend.RealizeBackend(scope);
        var bar = MemoryRegion.Io("virtio-pci", BarSize, new DelegateIoHandler(ReadBar, WriteBar));
        RegisterBar(ModernBar, bar, PciBarType.Memory64 | PciBarType.Prefetchable);
        AddCapability(VendorCapability, Capability(CapCommonCfg, ModernBar, CommonOffset, RegionSize, 0));
        AddCapability(VendorCapability, Capability(CapIsrCfg, ModernBar, IsrOffset, RegionSize, 0));
        AddCapability(VendorCapability, Capability(CapDeviceCfg, ModernBar, DeviceOffset, RegionSize, 0));
        AddCapability(VendorCapability, Capability(CapNotifyCfg, ModernBar, NotifyOffset, NotifyOffMultiplier * QueueLimit, NotifyOffMultiplier));
        // The configuration access window: bar, offset, length and data are the driver's to write.
        var cfg = AddCapability(VendorCapability, Capability(CapPciCfg, 0, 0, 0, 0));
        WritableMask[cfg + CapBar] = 0xFF;
        WritableMask.Slice(cfg + CapOffset, 12).Fill(0xFF);
        _pciCfgCapability = cfg;
        scope.OnUndo(() => _pciCfgCapability = 0);
    }

    /// <inheritdoc/>
    protected override void OnReset() => ResetTransport();

    /// <inheritdoc/>
    protected override uint ReadConfig(int offset, int size)
    {
        if (_pciCfgCapability != 0 && Overlaps(offset, size, _pciCfgCapability + CapData, 4) && ConfigWindow(out var barOffset, out var length))
            WriteLittleEndian(Config.Slice(_pciCfgCapability + CapData, length), (uint)ReadBar(barOffset, length));
        return base.ReadConfig(offset, size);
    }

    /// <inheritdoc/>
    protected override void WriteConfig(int offset, int size, uint value)
    {
        base.WriteConfig(offset, size, value);
        if (Overlaps(offset, size, PciConfigRegisters.Command, 1) && (Config[PciConfigRegisters.Command] & PciConfigRegisters.CommandMaster) == 0)
            _backend.ClearDriverOk();
        if (_pciCfgCapability != 0 && Overlaps(offset, size, _pciCfgCapability + CapData, 4) && ConfigWindow(out var barOffset, out var length))
            WriteBar(barOffset, length, ReadLittleEndian(Config.Slice(_pciCfgCapability + CapData, length)));
    }

    /// <inheritdoc/>
    protected override void SaveDeviceState(BinaryWriter writer)
    {
        writer.Write(_deviceFeatureSelect);
        writer.Write(_driverFeatureSelect);
        writer.Write(_driverFeatures[0]);
        writer.Write(_driverFeatures[1]);
        writer.Write(_queueSelect);
        _backend.Save(writer);
    }

    /// <inheritdoc/>
    protected override void LoadDeviceState(BinaryReader reader, int version)
    {
        var deviceFeatureSelect = reader.ReadUInt32();
        var driverFeatureSelect = reader.ReadUInt32();
        var driverFeatures0 = reader.ReadUInt32();
        var driverFeatures1 = reader.ReadUInt32();
        var queueSelect = reader.ReadUInt16();
        if (queueSelect >= QueueLimit)
            throw new InvalidDataException($"section '{SectionName}': bad queue_select {queueSelect}");
        _backend.Load(reader, SectionName);
        _deviceFeatureSelect = deviceFeatureSelect;
        _driverFeatureSelect = driverFeatureSelect;
        _driverFeatures[0] = driverFeatures0;
        _driverFeatures[1] = driverFeatures1;
        _queueSelect = queueSelect;
    }

    private static bool Overlaps(int offset, int size, int start, int length) => offset < start + length && start < offset + size;

    // struct virtio_pci_cap after cap_vndr and cap_next, plus the notify multiplier or cfg data word.
    private static byte[] Capability(byte type, byte bar, uint offset, uint length, uint extra)
    {
        var body = new byte[18];
        var withExtra = type is CapNotifyCfg or CapPciCfg;
        body[0] = (byte)(withExtra ? 20 : 16);
        body[1] = type;
        body[2] = bar;
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(6), offset);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(10), length);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(14), extra);
        return withExtra ? body : body[..14];
    }

    private static void WriteLittleEndian(Span<byte> bytes, uint value)
    {
        for (var i = 0; i < bytes.Length; i++, value >>= 8)
            bytes[i] = (byte)value;
    }

    private static uint ReadLittleEndian(ReadOnlySpan<byte> bytes)
    {
        uint value = 0;
        for (var i = 0; i < bytes.Length; i++)
            value |= (uint)bytes[i] << (i * 8);
        return value;
    }

    private static ulong Low(ulong current, uint value) => (current & 0xFFFFFFFF00000000) | value;

    private static ulong High(ulong current, uint value) => (current & 0xFFFFFFFF) | ((ulong)value << 32);

    // The window of the configuration access capability: 1, 2 or 4 bytes inside the BAR, aligned as QEMU does.
    private bool ConfigWindow(out ulong offset, out int length)
    {
        var cap = Config[_pciCfgCapability..];
        var window = BinaryPrimitives.ReadUInt32LittleEndian(cap[CapLength..]);
        offset = 0;
        length = 0;
        if (window is not (1 or 2 or 4))
            return false;
        length = (int)window;
        offset = BinaryPrimitives.ReadUInt32LittleEndian(cap[CapOffset..]) & ~(window - 1);
        return offset + window <= BarSize;
    }

    private void ResetTransport()
    {
        _backend.Reset();
        _deviceFeatureSelect = _driverFeatureSelect = 0;
        Array.Clear(_driverFeatures);
        _queueSelect = 0;
    }

    private ulong ReadBar(ulong offset, int size) => (offset / RegionSize) switch
    {
        0 => ReadCommon((int)offset),
        1 => _backend.ReadAndClearIsr(),
        2 => ReadDeviceConfig((int)offset - DeviceOffset, size),
        _ => 0,
    };

    private void WriteBar(ulong offset, int size, ulong value)
    {
        switch (offset / RegionSize)
        {
            case 0:
                WriteCommon((int)offset, (uint)value);
                break;
            case 2:
                WriteDeviceConfig((int)offset - DeviceOffset, size, (uint)value);
                break;
            case 3:
                // The queue is the one whose notify offset was written; the value is not looked at.
                _backend.HandleNotify(((int)offset - NotifyOffset) / NotifyOffMultiplier);
                break;
        }
    }

    // QEMU's virtio_pci_common_read: registers answer at their own offset, anything else reads 0.
    private uint ReadCommon(int offset)
    {
        var queue = SelectedQueue;
        return offset switch
        {
            DeviceFeatureSelect => _deviceFeatureSelect,
            DeviceFeature => _deviceFeatureSelect <= 1 ? (uint)(_backend.OfferedFeatures >> (32 * (int)_deviceFeatureSelect)) : 0,
            DriverFeatureSelect => _driverFeatureSelect,
            DriverFeature => _driverFeatureSelect <= 1 ? _driverFeatures[_driverFeatureSelect] : 0,
            ConfigMsixVector => NoVector,
            NumQueues => (uint)_backend.Queues.Count,
            DeviceStatus => _backend.Status,
            ConfigGeneration => _backend.Generation,
            QueueSelect => _queueSelect,
            QueueSize => queue?.Size ?? 0,
            QueueMsixVector => NoVector,
            QueueEnable => queue is { Enabled: true } ? 1u : 0,
            QueueNotifyOff => _queueSelect,
            QueueDescLo => (uint)(queue?.DescriptorArea ?? 0),
            QueueDescHi => (uint)((queue?.DescriptorArea ?? 0) >> 32),
            QueueDriverLo => (uint)(queue?.DriverArea ?? 0),
            QueueDriverHi => (uint)((queue?.DriverArea ?? 0) >> 32),
            QueueDeviceLo => (uint)(queue?.DeviceArea ?? 0),
            QueueDeviceHi => (uint)((queue?.DeviceArea ?? 0) >> 32),
            _ => 0,
        };
    }

    private void WriteCommon(int offset, uint value)
    {
        var queue = SelectedQueue;
        switch (offset)
        {
            case DeviceFeatureSelect:
                _deviceFeatureSelect = value;
                break;
            case DriverFeatureSelect:
                _driverFeatureSelect = value;
                break;
            case DriverFeature:
                if (_driverFeatureSelect <= 1)
                    _driverFeatures[_driverFeatureSelect] = value;
                break;
            case DeviceStatus:
                WriteStatus((byte)value);
                break;
            case QueueSelect:
                if (value < QueueLimit)
                    _queueSelect = (ushort)value;
                break;
            case QueueSize:
                queue?.SetSize((ushort)value);
                break;
            case QueueEnable:
                if (value != 1)
                    _backend.Fail($"wrong value for queue_enable {value:x}");
                else
                    queue?.Enable();
                break;
            case QueueDescLo when queue is not null:
                queue.SetAreas(Low(queue.DescriptorArea, value), null, null);
                break;
            case QueueDescHi when queue is not null:
                queue.SetAreas(High(queue.DescriptorArea, value), null, null);
                break;
            case QueueDriverLo when queue is not null:
                queue.SetAreas(null, Low(queue.DriverArea, value), null);
                break;
            case QueueDriverHi when queue is not null:
                queue.SetAreas(null, High(queue.DriverArea, value), null);
                break;
            case QueueDeviceLo when queue is not null:
                queue.SetAreas(null, null, Low(queue.DeviceArea, value));
                break;
            case QueueDeviceHi when queue is not null:
                queue.SetAreas(null, null, High(queue.DeviceArea, value));
                break;
        }
    }

    private void WriteStatus(byte value)
    {
        if (value == 0)
        {
            ResetTransport();
            return;
        }
        _backend.SetStatus(value, DriverFeatures);
    }

    // QEMU's virtio_config_modern_read*: outside the configuration space reads all ones.
    private ulong ReadDeviceConfig(int offset, int size)
    {
        var configSize = _backend.ConfigSize;
        if (offset + size > configSize)
            return uint.MaxValue;
        var config = new byte[configSize];
        _backend.ReadConfig(config);
        return ReadLittleEndian(config.AsSpan(offset, size));
    }

    private void WriteDeviceConfig(int offset, int size, uint value)
    {
        if (offset + size > _backend.ConfigSize)
            return;
        Span<byte> data = stackalloc byte[size];
        WriteLittleEndian(data, value);
        _backend.WriteConfig(offset, data);
    }
}
