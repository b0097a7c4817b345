using System.Buffers.Binary;
using Qmp.Memory;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// The device side of a split virtqueue (VIRTIO 1.x §2.7) in guest memory: the descriptor table,
/// the driver's available ring and the device's used ring. <see cref="Pop"/> walks a chain
/// (direct, or one indirect table when VIRTIO_F_INDIRECT_DESC was negotiated) with QEMU's checks;
/// a malformed ring puts the device in DEVICE_NEEDS_RESET and returns null instead of throwing.
/// Used-ring writes go through the address space, so migration sees the dirty pages. With
/// VIRTIO_F_EVENT_IDX, avail_event and used_event steer notifications both ways. Machine thread only.
/// </summary>
public sealed class SplitVirtqueue
{
    /// <summary>The largest queue the transport accepts (QEMU's VIRTQUEUE_MAX_SIZE).</summary>
    public const int MaxQueueSize = 1024;

    private const ushort DescNext = 1;
    private const ushort DescWrite = 2;
    private const ushort DescIndirect = 4;
    private const ushort AvailNoInterrupt = 1;
    private const int DescriptorSize = 16;

    private readonly VirtioDevice _device;
    private ushort _lastAvailIndex;
    private ushort _usedIndex;
    private int _inUse;
    private ushort _signalledUsed;
    private bool _signalledUsedValid;
    private int _epoch;

    internal SplitVirtqueue(VirtioDevice device, int index, ushort maxSize)
    {
        _device = device;
        Index = index;
        MaxSize = maxSize;
        Size = maxSize;
    }

    /// <summary>The queue's index in its device.</summary>
    public int Index { get; }

    /// <summary>The size the device offers (what queue_size reads after reset).</summary>
    public ushort MaxSize { get; }

    /// <summary>The size the driver chose.</summary>
    public ushort Size { get; private set; }

    /// <summary>Whether the driver enabled the queue (and its rings lie in guest RAM).</summary>
    public bool Enabled { get; private set; }

    /// <summary>Guest address of the descriptor table.</summary>
    public ulong DescriptorArea { get; private set; }

    /// <summary>Guest address of the available (driver) ring.</summary>
    public ulong DriverArea { get; private set; }

    /// <summary>Guest address of the used (device) ring.</summary>
    public ulong DeviceArea { get; private set; }

    /// <summary>Elements popped and not yet pushed back.</summary>
    public int InFlight => _inUse;

    /// <summary>Bumped by every reset: elements popped before it cannot be pushed after it.</summary>
    internal int Epoch => _epoch;

    private AddressSpace Memory => _device.Memory;

    private bool EventIndex => (_device.NegotiatedFeatures & VirtioFeatures.EventIndex) != 0;

    /// <summary>
    /// The next available chain, or null when the ring is empty, the queue is not running, or the ring
    /// is malformed (the device then needs a reset).
    /// </summary>
    public VirtqueueElement? Pop()
    {
        if (!Enabled || _device.Broken)
            return null;
        var availIndex = ReadU16(DriverArea + 2);
        var pending = (ushort)(availIndex - _lastAvailIndex);
        if (pending > Size)
            return Fail($"Guest moved avail index from {_lastAvailIndex} to {availIndex}");
        if (pending == 0)
            return null;
        if (_inUse >= Size)
            return Fail("Virtqueue size exceeded");
        var head = ReadU16(DriverArea + 4 + (2UL * (ulong)(_lastAvailIndex % Size)));
        _lastAvailIndex++;
        if (EventIndex)
            WriteU16(AvailEventAddress, _lastAvailIndex);
        if (head >= Size)
            return Fail($"Guest says index {head} is available");
        var element = ReadChain(head);
        if (element is not null)
            _inUse++;
        return element;
    }

    /// <summary>
    /// Returns <paramref name="element"/> to the driver through the used ring with <paramref name="written"/>
    /// bytes written (clamped to its writable length). Signal the driver afterwards with
    /// <see cref="VirtioDevice.Notify"/>. Returns false when the element was dropped instead: it is from
    /// before a reset, or the device is broken.
    /// </summary>
    public bool Push(VirtqueueElement element, uint written)
    {
        if (!ReferenceEquals(element.Queue, this))
            throw new ArgumentException($"the element belongs to queue {element.Queue.Index}, not {Index}", nameof(element));
        if (element.Completed)
            throw new InvalidOperationException($"the element with head {element.Head} was already pushed");
        element.Completed = true;
        if (element.Epoch != _epoch || !Enabled)
            return false;
        _inUse--;
        if (_device.Broken)
            return false;
        written = (uint)Math.Min(written, element.WritableLength);
        Span<byte> entry = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(entry, element.Head);
        BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], written);
        Memory.Write(DeviceArea + 4 + (8UL * (ulong)(_usedIndex % Size)), entry);
        _usedIndex++;
        WriteU16(DeviceArea + 2, _usedIndex);
        return true;
    }

    internal void SetSize(ushort size)
    {
        if (!Enabled && MaxSize != 0 && size is > 0 and <= MaxQueueSize)
            Size = size;
    }

    internal void SetAreas(ulong? descriptors, ulong? driver, ulong? device)
    {
        if (Enabled)
            return;
        DescriptorArea = descriptors ?? DescriptorArea;
        DriverArea = driver ?? DriverArea;
        DeviceArea = device ?? DeviceArea;
    }

    /// <summary>queue_enable: checks the rings lie in RAM (QEMU's "Cannot map" errors) and starts the queue.</summary>
    internal void Enable()
    {
        if (Enabled || MaxSize == 0)
            return;
        if (CheckRings() is { } error)
        {
            _device.Fail(error);
            return;
        }
        Enabled = true;
        _lastAvailIndex = _usedIndex = 0;
        _inUse = 0;
        _signalledUsedValid = false;
        _epoch++;
    }

    internal void Reset()
    {
        Enabled = false;
        Size = MaxSize;
        DescriptorArea = DriverArea = DeviceArea = 0;
        _lastAvailIndex = _usedIndex = _signalledUsed = 0;
        _inUse = 0;
        _signalledUsedValid = false;
        _epoch++;
    }

    /// <summary>QEMU's virtio_split_should_notify: whether pushed buffers warrant an interrupt now.</summary>
    internal bool ShouldNotify()
    {
        if (!Enabled)
            return false;
        if (!EventIndex)
            return (ReadU16(DriverArea) & AvailNoInterrupt) == 0;
        var valid = _signalledUsedValid;
        _signalledUsedValid = true;
        var old = _signalledUsed;
        var now = _signalledUsed = _usedIndex;
        return !valid || NeedEvent(ReadU16(UsedEventAddress), now, old);
    }

    internal void Save(BinaryWriter writer)
    {
        writer.Write(Size);
        writer.Write(Enabled);
        writer.Write(DescriptorArea);
        writer.Write(DriverArea);
        writer.Write(DeviceArea);
        writer.Write(_lastAvailIndex);
        writer.Write(_usedIndex);
        writer.Write(_inUse);
        writer.Write(_signalledUsed);
        writer.Write(_signalledUsedValid);
    }

    internal QueueState Read(BinaryReader reader) => new(
        reader.ReadUInt16(),
        reader.ReadBoolean(),
        reader.ReadUInt64(),
        reader.ReadUInt64(),
        reader.ReadUInt64(),
        reader.ReadUInt16(),
        reader.ReadUInt16(),
        reader.ReadInt32(),
        reader.ReadUInt16(),
        reader.ReadBoolean());

    /// <summary>Why <paramref name="state"/> cannot be loaded into this queue, or null.</summary>
    internal string? Validate(QueueState state)
    {
        if (state.Size is 0 or > MaxQueueSize || (MaxSize == 0 && state.Enabled))
            return $"queue {Index}: bad size {state.Size}";
        if (state.InUse < 0 || state.InUse > state.Size)
            return $"queue {Index}: bad in-flight count {state.InUse}";
        if (state.Enabled && CheckRings(state.Size, state.DescriptorArea, state.DriverArea, state.DeviceArea) is { } error)
            return $"queue {Index}: {error}";
        return null;
    }

    internal void Apply(QueueState state)
    {
        Size = state.Size;
        Enabled = state.Enabled;
        DescriptorArea = state.DescriptorArea;
        DriverArea = state.DriverArea;
        DeviceArea = state.DeviceArea;
        _lastAvailIndex = state.LastAvailIndex;
        _usedIndex = state.UsedIndex;
        _inUse = state.InUse;
        _signalledUsed = state.SignalledUsed;
        _signalledUsedValid = state.SignalledUsedValid;
        // Elements popped before the load belong to the old run.
        _epoch++;
    }

    // vring_need_event: whether the driver asked to hear about index 'event' between old and now.
    private static bool NeedEvent(ushort eventIndex, ushort now, ushort old) => (ushort)(now - eventIndex - 1) < (ushort)(now - old);

    private ulong UsedEventAddress => DriverArea + 4 + (2UL * Size);

    private ulong AvailEventAddress => DeviceArea + 4 + (8UL * Size);

    private string? CheckRings() => CheckRings(Size, DescriptorArea, DriverArea, DeviceArea);

    private string? CheckRings(ushort size, ulong descriptors, ulong driver, ulong device)
    {
        if (!GuestRam.Covers(Memory, descriptors, (ulong)size * DescriptorSize, write: false))
            return "Cannot map desc";
        if (!GuestRam.Covers(Memory, driver, 6 + (2UL * size), write: false))
            return "Cannot map avail";
        if (!GuestRam.Covers(Memory, device, 6 + (8UL * size), write: true))
            return "Cannot map used";
        return null;
    }

    // QEMU's virtqueue_split_pop: the chain, with its indirect table, bounded and loop-checked.
    private VirtqueueElement? ReadChain(ushort head)
    {
        var table = DescriptorArea;
        var max = (uint)Size;
        var index = (uint)head;
        var descriptor = ReadDescriptor(table, index);
        var indirect = false;
        if ((descriptor.Flags & DescIndirect) != 0)
        {
            if ((_device.NegotiatedFeatures & VirtioFeatures.IndirectDescriptors) == 0)
                return Fail("Indirect descriptor without VIRTIO_F_INDIRECT_DESC");
            if (descriptor.Length == 0 || descriptor.Length % DescriptorSize != 0)
                return Fail("Invalid size for indirect buffer table");
            if (!GuestRam.Covers(Memory, descriptor.Address, descriptor.Length, write: false))
                return Fail("Cannot map indirect buffer");
            table = descriptor.Address;
            max = descriptor.Length / DescriptorSize;
            index = 0;
            indirect = true;
            descriptor = ReadDescriptor(table, 0);
        }
        var readable = new List<VirtqueueBuffer>();
        var writable = new List<VirtqueueBuffer>();
        var entries = 0u;
        while (true)
        {
            if ((descriptor.Flags & DescIndirect) != 0)
                return Fail(indirect ? "Nested indirect descriptor" : "Indirect descriptor inside a chain");
            if (descriptor.Length == 0)
                return Fail("virtio: zero sized buffers are not allowed");
            var write = (descriptor.Flags & DescWrite) != 0;
            if (!GuestRam.Covers(Memory, descriptor.Address, descriptor.Length, write))
                return Fail("virtio: bogus descriptor or out of resources");
            if (write)
                writable.Add(new VirtqueueBuffer(descriptor.Address, descriptor.Length));
            else if (writable.Count > 0)
                return Fail("Incorrect order for descriptors");
            else
                readable.Add(new VirtqueueBuffer(descriptor.Address, descriptor.Length));
            if (readable.Count + writable.Count > MaxQueueSize)
                return Fail("virtio: too many descriptors in chain");
            // More entries than the table holds means the chain loops.
            if (++entries > max)
                return Fail("Looped descriptor");
            if ((descriptor.Flags & DescNext) == 0)
                break;
            index = descriptor.Next;
            if (index >= max)
                return Fail($"Desc next is {index}");
            descriptor = ReadDescriptor(table, index);
        }
        return new VirtqueueElement(this, _epoch, head, [.. readable], [.. writable], Memory);
    }

    private Descriptor ReadDescriptor(ulong table, uint index)
    {
        Span<byte> raw = stackalloc byte[DescriptorSize];
        Memory.Read(table + ((ulong)index * DescriptorSize), raw);
        return new Descriptor(
            BinaryPrimitives.ReadUInt64LittleEndian(raw),
            BinaryPrimitives.ReadUInt32LittleEndian(raw[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(raw[12..]),
            BinaryPrimitives.ReadUInt16LittleEndian(raw[14..]));
    }

    private ushort ReadU16(ulong address)
    {
        Span<byte> raw = stackalloc byte[2];
        Memory.Read(address, raw);
        return BinaryPrimitives.ReadUInt16LittleEndian(raw);
    }

    private void WriteU16(ulong address, ushort value)
    {
        Span<byte> raw = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(raw, value);
        Memory.Write(address, raw);
    }

    private VirtqueueElement? Fail(string message)
    {
        _device.Fail(message);
        return null;
    }

    private readonly record struct Descriptor(ulong Address, uint Length, ushort Flags, ushort Next);

    /// <summary>A queue's migrated registers and ring positions, read before they are checked and applied.</summary>
    internal readonly record struct QueueState(
        ushort Size,
        bool Enabled,
        ulong DescriptorArea,
        ulong DriverArea,
        ulong DeviceArea,
        ushort LastAvailIndex,
        ushort UsedIndex,
        int InUse,
        ushort SignalledUsed,
        bool SignalledUsedValid);
}
