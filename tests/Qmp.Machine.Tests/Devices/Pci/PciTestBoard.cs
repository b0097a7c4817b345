using Qmp.Machine.Devices.Pci;
using Qmp.Memory;

namespace Qmp.Machine.Tests.Devices.Pci;

/// <summary>
/// A test board with 1 MiB of RAM at 0 and a realized PCI host, reached through the type-1
/// configuration ports as a guest would.
/// </summary>
internal sealed class PciTestBoard : IDisposable
{
    public const long RamSize = 1 << 20;

    public PciTestBoard(bool withPic = false)
    {
        Board = new TestBoard(withPic);
        Ram = RamBlock.CreateAnonymous("ram", RamSize);
        Memory.Map(0, MemoryRegion.Ram("ram", Ram, 0, RamSize));
        Host = Board.Realize(new PciHost());
    }

    public TestBoard Board { get; }

    public RamBlock Ram { get; }

    public PciHost Host { get; }

    public AddressSpace Memory => Board.Context.Memory;

    public PortIoSpace Io => Board.Io;

    public static uint ConfigAddress(int bus, int slot, int function, int register) =>
        0x80000000u | (uint)(bus << 16) | (uint)(slot << 11) | (uint)(function << 8) | (uint)(register & 0xFC);

    public uint ConfigRead(int slot, int function, int register, int size, int bus = 0)
    {
        Io.Write(0xCF8, 4, ConfigAddress(bus, slot, function, register));
        return Io.Read((ushort)(0xCFC + (register & 3)), size);
    }

    public void ConfigWrite(int slot, int function, int register, int size, uint value)
    {
        Io.Write(0xCF8, 4, ConfigAddress(0, slot, function, register));
        Io.Write((ushort)(0xCFC + (register & 3)), size, value);
    }

    /// <summary>Programs BAR <paramref name="index"/> (both halves for a 64-bit BAR).</summary>
    public void ProgramBar(int slot, int index, ulong address, bool is64 = false)
    {
        ConfigWrite(slot, 0, 0x10 + (index * 4), 4, (uint)address);
        if (is64)
            ConfigWrite(slot, 0, 0x14 + (index * 4), 4, (uint)(address >> 32));
    }

    /// <summary>Writes all ones to BAR <paramref name="index"/> and reads back the size mask, as firmware sizes a BAR.</summary>
    public uint SizeBar(int slot, int index)
    {
        ConfigWrite(slot, 0, 0x10 + (index * 4), 4, uint.MaxValue);
        return ConfigRead(slot, 0, 0x10 + (index * 4), 4);
    }

    public void SetCommand(int slot, int command) => ConfigWrite(slot, 0, 0x04, 2, (uint)command);

    public void Dispose() => Ram.Dispose();
}
