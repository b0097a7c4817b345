using System.Buffers.Binary;
using Qmp.Machine.Tests.Devices.Pci;

namespace Qmp.Machine.Tests.Devices.Virtio;

/// <summary>
/// A minimal modern virtio-pci driver, as a guest would write it: finds the vendor capabilities,
/// places BAR 4, negotiates features and lays queue 0 out in guest RAM.
/// </summary>
internal sealed class VirtioTestDriver
{
    public const ulong BarAddress = 0xFE000000;
    public const ulong DescriptorTable = 0x10000;
    public const ulong AvailRing = 0x11000;
    public const ulong UsedRing = 0x12000;
    public const ulong VersionOne = 1UL << 32;
    public const ulong IndirectDesc = 1UL << 28;
    public const ulong EventIdx = 1UL << 29;
    public const byte Acknowledge = 1, Driver = 2, DriverOk = 4, FeaturesOk = 8, NeedsReset = 0x40;
    public const ushort Next = 1, Write = 2, Indirect = 4;

    private readonly PciTestBoard _pci;
    private ushort _availIndex;

    public VirtioTestDriver(PciTestBoard pci, int slot)
    {
        _pci = pci;
        Slot = slot;
        for (var next = (int)pci.ConfigRead(slot, 0, 0x34, 1); next != 0; next = (int)pci.ConfigRead(slot, 0, next + 1, 1))
        {
            if (pci.ConfigRead(slot, 0, next, 1) != 0x09)
                continue;
            var type = (byte)pci.ConfigRead(slot, 0, next + 3, 1);
            Capabilities.Add(new VirtioCapability(
                next,
                type,
                (byte)pci.ConfigRead(slot, 0, next + 2, 1),
                (byte)pci.ConfigRead(slot, 0, next + 4, 1),
                pci.ConfigRead(slot, 0, next + 8, 4),
                pci.ConfigRead(slot, 0, next + 12, 4),
                type is 2 or 5 ? pci.ConfigRead(slot, 0, next + 16, 4) : 0));
        }
        pci.ProgramBar(slot, 4, BarAddress, is64: true);
        pci.SetCommand(slot, 0x06);
    }

    public int Slot { get; }

    public List<VirtioCapability> Capabilities { get; } = [];

    public ushort QueueSize { get; private set; } = 8;

    public byte Status
    {
        get => (byte)ReadCommon(0x14, 1);
        set => WriteCommon(0x14, 1, value);
    }

    public ulong DeviceFeatures
    {
        get
        {
            WriteCommon(0x00, 4, 0);
            var low = ReadCommon(0x04, 4);
            WriteCommon(0x00, 4, 1);
            return ((ulong)ReadCommon(0x04, 4) << 32) | low;
        }
    }

    public ushort UsedIndex => ReadU16(UsedRing + 2);

    private ulong Common => BarAddress + Capability(1).Offset;

    public VirtioCapability Capability(byte type) => Capabilities.First(c => c.Type == type);

    public uint ReadCommon(int offset, int size) => (uint)_pci.Memory.Read(Common + (ulong)offset, size);

    public void WriteCommon(int offset, int size, uint value) => _pci.Memory.Write(Common + (ulong)offset, size, value);

    public void WriteDriverFeatures(ulong features)
    {
        WriteCommon(0x08, 4, 0);
        WriteCommon(0x0C, 4, (uint)features);
        WriteCommon(0x08, 4, 1);
        WriteCommon(0x0C, 4, (uint)(features >> 32));
    }

    /// <summary>Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; true if FEATURES_OK stuck.</summary>
    public bool Negotiate(ulong features)
    {
        Status = 0;
        Status = Acknowledge;
        Status = Acknowledge | Driver;
        WriteDriverFeatures(features);
        Status = Acknowledge | Driver | FeaturesOk;
        return (Status & FeaturesOk) != 0;
    }

    public void SetupQueue(int queue, ushort size, ulong descriptors = DescriptorTable, ulong avail = AvailRing, ulong used = UsedRing)
    {
        // Fresh rings, as a driver allocates zeroed ones for every setup.
        if (avail < PciTestBoard.RamSize)
            _pci.Memory.Write(avail, new byte[6 + (2 * size)]);
        if (used < PciTestBoard.RamSize)
            _pci.Memory.Write(used, new byte[6 + (8 * size)]);
        WriteCommon(0x16, 2, (uint)queue);
        WriteCommon(0x18, 2, size);
        WriteCommon(0x20, 4, (uint)descriptors);
        WriteCommon(0x24, 4, (uint)(descriptors >> 32));
        WriteCommon(0x28, 4, (uint)avail);
        WriteCommon(0x2C, 4, (uint)(avail >> 32));
        WriteCommon(0x30, 4, (uint)used);
        WriteCommon(0x34, 4, (uint)(used >> 32));
        WriteCommon(0x1C, 2, 1);
        QueueSize = size;
        _availIndex = 0;
    }

    /// <summary>Takes over a running queue 0 (after migration): its size and the next avail index.</summary>
    public void Resume(ushort size, ushort availIndex)
    {
        QueueSize = size;
        _availIndex = availIndex;
    }

    /// <summary>Brings the device up with queue 0 of <paramref name="size"/> and the features given.</summary>
    public void Start(ulong features = VersionOne | IndirectDesc, ushort size = 8)
    {
        Assert.True(Negotiate(features));
        SetupQueue(0, size);
        Status = Acknowledge | Driver | FeaturesOk | DriverOk;
    }

    public void Notify(int queue)
    {
        WriteCommon(0x16, 2, (uint)queue);
        var offset = ReadCommon(0x1E, 2);
        var notify = Capability(2);
        _pci.Memory.Write(BarAddress + notify.Offset + (offset * notify.Extra), 2, (ulong)queue);
    }

    public byte ReadIsr() => (byte)_pci.Memory.Read(BarAddress + Capability(3).Offset, 1);

    public void WriteDescriptor(ulong table, int index, ulong address, uint length, ushort flags = 0, ushort next = 0)
    {
        Span<byte> raw = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(raw, address);
        BinaryPrimitives.WriteUInt32LittleEndian(raw[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[14..], next);
        _pci.Memory.Write(table + (ulong)(index * 16), raw);
    }

    public void WriteDescriptor(int index, ulong address, uint length, ushort flags = 0, ushort next = 0) =>
        WriteDescriptor(DescriptorTable, index, address, length, flags, next);

    /// <summary>Puts <paramref name="head"/> in the next available slot and publishes the index.</summary>
    public void MakeAvailable(ushort head)
    {
        WriteU16(AvailRing + 4 + (2UL * (ulong)(_availIndex % QueueSize)), head);
        _availIndex++;
        WriteU16(AvailRing + 2, _availIndex);
    }

    public void SetAvailIndex(ushort index) => WriteU16(AvailRing + 2, index);

    public void SetAvailFlags(ushort flags) => WriteU16(AvailRing, flags);

    public void SetUsedEvent(ushort index) => WriteU16(AvailRing + 4 + (2UL * QueueSize), index);

    public ushort AvailEvent => ReadU16(UsedRing + 4 + (8UL * QueueSize));

    public (uint Id, uint Length) UsedElement(int index)
    {
        var at = UsedRing + 4 + (8UL * (ulong)(index % QueueSize));
        return ((uint)_pci.Memory.Read(at, 4), (uint)_pci.Memory.Read(at + 4, 4));
    }

    public byte[] ReadGuest(ulong address, int length)
    {
        var bytes = new byte[length];
        _pci.Memory.Read(address, bytes);
        return bytes;
    }

    private ushort ReadU16(ulong address) => (ushort)_pci.Memory.Read(address, 2);

    private void WriteU16(ulong address, ushort value) => _pci.Memory.Write(address, 2, value);
}
