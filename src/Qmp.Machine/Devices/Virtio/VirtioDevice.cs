using Qmp.Memory;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// A virtio device behind a transport (QEMU's VirtIODevice): its type, feature bits, configuration
/// space and virtqueues, with the core state the transport drives (status, negotiated features, ISR,
/// configuration generation). A backend implements the abstract members and serves requests in
/// <see cref="OnQueueNotify"/>: <see cref="SplitVirtqueue.Pop"/> the elements, do the work, then
/// <see cref="Complete"/> them, at once or later on the machine thread.
/// </summary>
/// <remarks>
/// The transport offers VIRTIO_F_VERSION_1 and the ring features itself; <see cref="DeviceFeatures"/> holds
/// the device-specific bits. A guest error (bad ring, bad register value) goes through <see cref="Fail"/>:
/// DEVICE_NEEDS_RESET, a configuration interrupt, and no further processing until the driver resets.
/// </remarks>
public abstract class VirtioDevice
{
    private const byte IsrQueue = 0x01;
    private const byte IsrConfig = 0x02;

    private IVirtioTransport? _transport;
    private SplitVirtqueue[] _queues = [];
    private ulong _offeredFeatures;
    private ulong _features;
    private byte _status;
    private byte _isr;
    private byte _generation;
    private bool _broken;

    /// <summary>The virtio device id (VIRTIO 1.x §5), e.g. 2 for block, 4 for entropy.</summary>
    public abstract ushort DeviceType { get; }

    /// <summary>The device-specific feature bits offered to the driver.</summary>
    public virtual ulong DeviceFeatures => 0;

    /// <summary>The maximum size of each virtqueue (1..1024), in queue order.</summary>
    public abstract IReadOnlyList<ushort> QueueSizes { get; }

    /// <summary>Bytes of device configuration space.</summary>
    public virtual int ConfigSize => 0;

    /// <summary>The features the driver accepted with FEATURES_OK.</summary>
    public ulong NegotiatedFeatures => _features;

    /// <summary>The device status register.</summary>
    public byte Status => _status;

    /// <summary>Whether the driver has set DRIVER_OK (the device may use its queues).</summary>
    public bool DriverOk => (_status & VirtioStatus.DriverOk) != 0;

    /// <summary>Whether a guest error stopped the device until the next reset.</summary>
    public bool Broken => _broken;

    /// <summary>The message of the last guest error, for diagnostics; null after reset.</summary>
    public string? LastError { get; private set; }

    /// <summary>The virtqueues, once realized.</summary>
    public IReadOnlyList<SplitVirtqueue> Queues => _queues;

    internal byte Generation => _generation;

    internal byte Isr => _isr;

    internal ulong OfferedFeatures => _offeredFeatures;

    /// <summary>Guest memory, for DMA beyond what <see cref="VirtqueueElement"/> offers.</summary>
    protected internal AddressSpace Memory => (_transport ?? throw new InvalidOperationException("the virtio device is not on a transport")).Memory;

    /// <summary>
    /// Pushes <paramref name="element"/> back with <paramref name="written"/> bytes written and interrupts the
    /// driver if it wants to hear (QEMU's virtqueue_push then virtio_notify).
    /// </summary>
    public void Complete(SplitVirtqueue queue, VirtqueueElement element, uint written)
    {
        if (queue.Push(element, written))
            Notify(queue);
    }

    /// <summary>Raises the used-buffer interrupt for <paramref name="queue"/> unless the driver suppressed it.</summary>
    public void Notify(SplitVirtqueue queue)
    {
        if (!_broken && queue.ShouldNotify())
            RaiseIsr(IsrQueue);
    }

    /// <summary>The configuration changed: bump the generation and interrupt the driver (after DRIVER_OK).</summary>
    public void NotifyConfigChanged()
    {
        _generation++;
        if (DriverOk)
            RaiseIsr(IsrQueue | IsrConfig);
    }

    /// <summary>A guest error (QEMU's virtio_error): DEVICE_NEEDS_RESET, a configuration interrupt, and the device stops.</summary>
    public void Fail(string message)
    {
        LastError = message;
        // QEMU sets NEEDS_RESET only once VERSION_1 is negotiated; a modern-only device always has it.
        _status |= VirtioStatus.NeedsReset;
        NotifyConfigChanged();
        _broken = true;
    }

    internal void Attach(IVirtioTransport transport, ulong transportFeatures)
    {
        var sizes = QueueSizes;
        if (sizes.Count > SplitVirtqueue.MaxQueueSize)
            throw new DeviceRealizeException($"virtio device {DeviceType} has {sizes.Count} queues, more than {SplitVirtqueue.MaxQueueSize}");
        var queues = new SplitVirtqueue[sizes.Count];
        for (var i = 0; i < queues.Length; i++)
        {
            if (sizes[i] is 0 or > SplitVirtqueue.MaxQueueSize)
                throw new DeviceRealizeException($"virtio device {DeviceType}: queue {i} cannot have size {sizes[i]}");
            queues[i] = new SplitVirtqueue(this, i, sizes[i]);
        }
        _transport = transport;
        _queues = queues;
        _offeredFeatures = DeviceFeatures | transportFeatures;
    }

    internal void Detach()
    {
        _transport = null;
        _queues = [];
    }

    /// <summary>Acquires the backend's resources through <paramref name="scope"/> while the transport realizes.</summary>
    protected internal virtual void RealizeBackend(RealizeScope scope)
    {
    }

    /// <summary>The driver made buffers available on <paramref name="queue"/> (only called after DRIVER_OK, on enabled queues).</summary>
    protected internal abstract void OnQueueNotify(SplitVirtqueue queue);

    /// <summary>Device reset: drop in-flight work; queues and core state are reset by the base afterwards.</summary>
    protected internal virtual void OnReset()
    {
    }

    /// <summary>Whether the device accepts <paramref name="features"/> for FEATURES_OK (all offered, VERSION_1 included).</summary>
    protected internal virtual bool ValidateFeatures(ulong features) => true;

    /// <summary>Fills <paramref name="config"/> (<see cref="ConfigSize"/> bytes) with the current configuration space.</summary>
    protected internal virtual void ReadConfig(Span<byte> config)
    {
    }

    /// <summary>The driver wrote <paramref name="data"/> at <paramref name="offset"/> of the configuration space.</summary>
    protected internal virtual void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
    }

    /// <summary>Writes backend state after the core and queue state.</summary>
    protected internal virtual void SaveBackendState(BinaryWriter writer)
    {
    }

    /// <summary>Reads what <see cref="SaveBackendState"/> wrote.</summary>
    protected internal virtual void LoadBackendState(BinaryReader reader)
    {
    }

    /// <summary>A driver write of the status register (QEMU's virtio_set_status); FEATURES_OK is refused unless the features are acceptable.</summary>
    internal void SetStatus(byte value, ulong driverFeatures)
    {
        if ((value & VirtioStatus.FeaturesOk) != 0 && (_status & VirtioStatus.FeaturesOk) == 0)
        {
            // A modern-only device needs VERSION_1 and nothing it did not offer; on refusal the status stays.
            if ((driverFeatures & VirtioFeatures.VersionOne) == 0 || (driverFeatures & ~_offeredFeatures) != 0 || !ValidateFeatures(driverFeatures))
                return;
            _features = driverFeatures;
        }
        var wasDriverOk = DriverOk;
        // NEEDS_RESET is the device's to set; only a reset clears it.
        _status = (byte)(value | (_status & VirtioStatus.NeedsReset));
        if (DriverOk && !wasDriverOk)
        {
            // Buffers queued before DRIVER_OK were waiting for it.
            foreach (var queue in _queues)
                HandleNotify(queue.Index);
        }
    }

    internal void ClearDriverOk() => _status &= unchecked((byte)~VirtioStatus.DriverOk);

    internal void HandleNotify(int queue)
    {
        if (queue < _queues.Length && _queues[queue].Enabled && DriverOk && !_broken)
            OnQueueNotify(_queues[queue]);
    }

    internal byte ReadAndClearIsr()
    {
        var isr = _isr;
        _isr = 0;
        _transport?.UpdateInterrupt(false);
        return isr;
    }

    /// <summary>QEMU's virtio_reset: backend first, then status, features, ISR and every queue.</summary>
    internal void Reset()
    {
        OnReset();
        _status = 0;
        _features = 0;
        _isr = 0;
        _broken = false;
        LastError = null;
        foreach (var queue in _queues)
            queue.Reset();
        _transport?.UpdateInterrupt(false);
    }

    internal void Save(BinaryWriter writer)
    {
        writer.Write(_status);
        writer.Write(_isr);
        writer.Write(_generation);
        writer.Write(_features);
        writer.Write(_broken);
        writer.Write(_queues.Length);
        foreach (var queue in _queues)
            queue.Save(writer);
        SaveBackendState(writer);
    }

    internal void Load(BinaryReader reader, string section)
    {
        var status = reader.ReadByte();
        var isr = reader.ReadByte();
        var generation = reader.ReadByte();
        var features = reader.ReadUInt64();
        var broken = reader.ReadBoolean();
        var count = reader.ReadInt32();
        if (count != _queues.Length)
            throw new InvalidDataException($"section '{section}': {count} virtqueues, this device has {_queues.Length}");
        if ((features & ~_offeredFeatures) != 0)
            throw new InvalidDataException($"section '{section}': features {features:#x} include some this device does not offer ({_offeredFeatures:#x})");
        var states = new SplitVirtqueue.QueueState[count];
        for (var i = 0; i < count; i++)
        {
            states[i] = _queues[i].Read(reader);
            if (_queues[i].Validate(states[i]) is { } error)
                throw new InvalidDataException($"section '{section}': {error}");
        }
        _status = status;
        _isr = isr;
        _generation = generation;
        _features = features;
        _broken = broken;
        for (var i = 0; i < count; i++)
            _queues[i].Apply(states[i]);
        LoadBackendState(reader);
        _transport?.UpdateInterrupt((_isr & IsrQueue) != 0);
    }

    private void RaiseIsr(byte bits)
    {
        _isr |= bits;
        // INTx follows bit 0, as QEMU's virtio_pci_notify without MSI-X.
        _transport?.UpdateInterrupt((_isr & IsrQueue) != 0);
    }
}
