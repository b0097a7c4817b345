using Iced.Intel;
using Qmp.Memory;

namespace Qmp.Cpu.X86.Tests.Interpreter;

/// <summary>A CPU with RAM at 0 and a port space, for running small assembled programs.</summary>
internal sealed class CpuRig : IDisposable
{
    public CpuRig(long ramSize = 4 << 20)
    {
        Ram = RamBlock.CreateAnonymous("ram", ramSize);
        Memory = new AddressSpace("memory");
        Memory.Map(0, MemoryRegion.Ram("ram", Ram, 0, (ulong)ramSize));
        Io = new PortIoSpace();
        Cpu = new X86Cpu(Memory, Io);
    }

    public RamBlock Ram { get; }

    public AddressSpace Memory { get; }

    public PortIoSpace Io { get; }

    public X86Cpu Cpu { get; }

    /// <summary>Assembles 32-bit code at <paramref name="address"/> and enters it in flat protected mode.</summary>
    public void Load32(uint address, Action<Assembler> program)
    {
        var assembler = new Assembler(32);
        program(assembler);
        var stream = new MemoryStream();
        assembler.Assemble(new StreamCodeWriter(stream), address);
        Memory.LoadImage(address, stream.ToArray());
        Cpu.EnterFlatProtectedMode(address);
        Cpu.SetRegister(4, 0x80000);
    }

    /// <summary>Runs until HLT (or the budget ends, which fails the test).</summary>
    public void RunToHalt(long blocks = 10_000_000)
    {
        var exit = Cpu.Run(blocks);
        Assert.Equal(CpuExit.Halted, exit);
    }

    public void Dispose() => Ram.Dispose();
}
