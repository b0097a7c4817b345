using System.Buffers.Binary;
using Qmp.Memory;
using FwCfgDevice = Qmp.Machine.Devices.FwCfg.FwCfg;

namespace Qmp.Machine.Tests.Devices.FwCfg;

/// <summary>What a guest driver does with fw_cfg: port accesses, and DMA through 64 KiB of RAM at address 0.</summary>
internal sealed class FwCfgGuest : IDisposable
{
    public const ulong Descriptor = 0x1000;
    public const ulong Buffer = 0x2000;

    private readonly RamBlock _ram = RamBlock.CreateAnonymous("ram", 64 * 1024);

    public FwCfgGuest()
    {
        Board.Context.Memory.Map(0, MemoryRegion.Ram("ram", _ram, 0, (ulong)_ram.Size));
    }

    public TestBoard Board { get; } = new();

    public AddressSpace Memory => Board.Context.Memory;

    public FwCfgDevice Realize(FwCfgDevice device) => Board.Realize(device);

    public void Select(ushort key) => Board.Io.Write(FwCfgDevice.SelectorPort, 2, key);

    public byte[] Read(int count)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
            bytes[i] = Board.In(FwCfgDevice.DataPort);
        return bytes;
    }

    public byte[] ReadItem(ushort key, int count)
    {
        Select(key);
        return Read(count);
    }

    /// <summary>Writes a FWCfgDmaAccess at <see cref="Descriptor"/>, starts it as SeaBIOS does, and returns the control word after.</summary>
    public uint Dma(uint control, uint length, ulong address = Buffer)
    {
        Span<byte> access = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(access, control);
        BinaryPrimitives.WriteUInt32BigEndian(access[4..], length);
        BinaryPrimitives.WriteUInt64BigEndian(access[8..], address);
        Memory.Write(Descriptor, access);
        // outl(cpu_to_be32(high), 0x514); outl(cpu_to_be32(low), 0x518)
        Board.Io.Write(FwCfgDevice.DmaPort, 4, BinaryPrimitives.ReverseEndianness((uint)(Descriptor >> 32)));
        Board.Io.Write(FwCfgDevice.DmaPort + 4, 4, BinaryPrimitives.ReverseEndianness((uint)Descriptor));
        return ControlWord();
    }

    public uint ControlWord()
    {
        Span<byte> control = stackalloc byte[4];
        Memory.Read(Descriptor, control);
        return BinaryPrimitives.ReadUInt32BigEndian(control);
    }

    public byte[] Ram(ulong address, int count)
    {
        var bytes = new byte[count];
        Memory.Read(address, bytes);
        return bytes;
    }

    public void Dispose() => _ram.Dispose();
}
