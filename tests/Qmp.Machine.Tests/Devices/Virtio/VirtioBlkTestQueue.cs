using System.Buffers.Binary;
using Qmp.Memory;

namespace Qmp.Machine.Tests.Devices.Virtio;

/// <summary>The driver's side of one split virtqueue at fixed guest addresses: descriptors, avail and used rings.</summary>
internal sealed class VirtioBlkTestQueue(AddressSpace memory, int index, ushort size, ulong descriptors, ulong avail, ulong used)
{
    private ushort _availIndex;

    public int Index { get; } = index;

    public ushort Size { get; } = size;

    public ulong Descriptors { get; } = descriptors;

    public ulong Avail { get; } = avail;

    public ulong Used { get; } = used;

    public ushort UsedIndex => (ushort)memory.Read(Used + 2, 2);

    public void WriteDescriptor(ulong table, int index, ulong address, uint length, ushort flags = 0, ushort next = 0)
    {
        Span<byte> raw = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(raw, address);
        BinaryPrimitives.WriteUInt32LittleEndian(raw[8..], length);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[12..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(raw[14..], next);
        memory.Write(table + (ulong)(index * 16), raw);
    }

    /// <summary>Puts <paramref name="head"/> in the next available slot and publishes the index.</summary>
    public void MakeAvailable(ushort head)
    {
        memory.Write(Avail + 4 + (2UL * (ulong)(_availIndex % Size)), 2, head);
        _availIndex++;
        memory.Write(Avail + 2, 2, _availIndex);
    }

    /// <summary>Takes over a queue whose avail index is already <paramref name="availIndex"/> (after migration).</summary>
    public void Resume(ushort availIndex) => _availIndex = availIndex;

    public (uint Id, uint Length) UsedElement(int index)
    {
        var at = Used + 4 + (8UL * (ulong)(index % Size));
        return ((uint)memory.Read(at, 4), (uint)memory.Read(at + 4, 4));
    }
}
