using System.Buffers.Binary;
using Iced.Intel;
using Qmp.Memory;

namespace Qmp.Cpu.X86.Tests.Interpreter;

/// <summary>
/// A protected-mode environment for system-level tests: a GDT (ring-0 and ring-3 flat code and
/// data, a TSS), an IDT whose every vector leads to a ring-0 "hlt" stub, and a ring-0 stack in the
/// TSS. After a run, <see cref="Vector"/> names the exception or interrupt that halted the CPU.
/// </summary>
internal sealed class SystemRig : IDisposable
{
    public const uint Gdt = 0x5000, Idt = 0x6000, Tss = 0x7000, Stubs = 0x8000, Ring0Stack = 0xF000;
    public const ushort Code0 = 0x08, Data0 = 0x10, Code3 = 0x1B, Data3 = 0x23, TssSelector = 0x28;

    public SystemRig()
    {
        Ram = RamBlock.CreateAnonymous("ram", 4 << 20);
        Memory = new AddressSpace("memory");
        Memory.Map(0, MemoryRegion.Ram("ram", Ram, 0, 4 << 20));
        Cpu = new X86Cpu(Memory, new PortIoSpace());
        Write64(Gdt + Code0, 0x00CF9B000000FFFF);
        Write64(Gdt + Data0, 0x00CF93000000FFFF);
        Write64(Gdt + (Code3 & ~3), 0x00CFFB000000FFFF);
        Write64(Gdt + (Data3 & ~3), 0x00CFF3000000FFFF);
        Write64(Gdt + TssSelector, 0x0000890000000067 | ((ulong)Tss << 16));
        Write32(Tss + 4, Ring0Stack);
        Write32(Tss + 8, Data0);
        for (uint vector = 0; vector < 256; vector++)
        {
            var stub = Stubs + vector * 16;
            Memory.LoadImage(stub, [0xF4]);
            Write64(Idt + vector * 8, (stub & 0xFFFF) | ((ulong)Code0 << 16) | (0xEEUL << 40) | ((ulong)(stub >> 16) << 48));
        }
    }

    public RamBlock Ram { get; }

    public AddressSpace Memory { get; }

    public X86Cpu Cpu { get; }

    /// <summary>The vector whose stub the CPU halted in, or null if it halted elsewhere.</summary>
    public uint? Vector => Cpu.Eip is > Stubs and <= Stubs + 256 * 16 ? (Cpu.Eip - 1 - Stubs) / 16 : null;

    public uint Read32(uint address) => BinaryPrimitives.ReadUInt32LittleEndian(Ram.GetSpan(address, 4));

    public void Write32(uint address, uint value) => Memory.LoadImage(address, BitConverter.GetBytes(value));

    public void Write64(uint address, ulong value) => Memory.LoadImage(address, BitConverter.GetBytes(value));

    /// <summary>The dword <paramref name="index"/> of the stack at ESP (an exception frame).</summary>
    public uint Stack(int index) => Read32(Cpu.Reg(Gpr32.Esp) + (uint)index * 4);

    public void Assemble(uint address, int bitness, Action<Assembler> program)
    {
        var assembler = new Assembler(bitness);
        program(assembler);
        var stream = new MemoryStream();
        assembler.Assemble(new StreamCodeWriter(stream), address);
        Memory.LoadImage(address, stream.ToArray());
    }

    /// <summary>Flat 32-bit protected mode at <paramref name="cpl"/> with the tables loaded.</summary>
    public void Enter(uint eip, int cpl, uint esp = 0x80000)
    {
        Cpu.EnterFlatProtectedMode(eip, Code0, Data0);
        Cpu.SetDescriptorTables(Gdt, 0x2F, Idt, 256 * 8 - 1);
        Cpu.Tr = X86Cpu.ParseDescriptor(TssSelector, 0x00008B0000000067 | ((ulong)Tss << 16));
        if (cpl == 3)
        {
            Cpu.Cs = X86Cpu.ParseDescriptor(Code3, 0x00CFFB000000FFFF);
            var data = X86Cpu.ParseDescriptor(Data3, 0x00CFF3000000FFFF);
            Cpu.Ss = Cpu.Ds = Cpu.Es = Cpu.Fs = Cpu.Gs = data;
            Cpu.SetCpl(3);
        }
        Cpu.Reg(Gpr32.Esp) = esp;
    }

    public CpuExit Run(long blocks = 1_000_000) => Cpu.Run(blocks);

    public void Dispose() => Ram.Dispose();
}
