using System.Diagnostics;
using System.Globalization;
using Iced.Intel;
using Qmp.Cpu.X86;
using Qmp.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace Qmp.Bench;

/// <summary>
/// qmp-bench io [--accesses N]: the cost of one device-register access, in ns, through the
/// dispatchers alone (PortIoSpace, AddressSpace on an MMIO region) and end to end from guest
/// code (a loop of IN / MOV-from-MMIO instructions run by the CPU). Medians of five runs.
/// </summary>
internal static class IoBench
{
    public static int Run(string[] args)
    {
        var accesses = 10_000_000;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--accesses": accesses = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"qmp-bench io: unknown option {args[i]}"); return 2;
            }
        }
        var register = new ScratchRegisters();
        var io = new PortIoSpace();
        io.Map(0x3f8, MemoryRegion.Io("uart-like", 8, register, IoAccessRules.Bytes));
        using var ram = RamBlock.CreateAnonymous("ram", 1 << 20);
        var memory = new AddressSpace("memory");
        memory.Map(0, MemoryRegion.Ram("ram", ram, 0, 1 << 20));
        memory.Map(0xFEE00000, MemoryRegion.Io("apic-like", 4096, register, IoAccessRules.Dwords));

        Console.WriteLine($"{accesses:N0} accesses per run, median of 5 runs");
        Report("port I/O read, dispatcher (PortIoSpace.Read, 1 byte)", accesses, () =>
        {
            uint sum = 0;
            for (var i = 0; i < accesses; i++)
                sum += io.Read(0x3fd, 1);
            return sum;
        });
        Report("port I/O write, dispatcher (PortIoSpace.Write, 1 byte)", accesses, () =>
        {
            for (var i = 0; i < accesses; i++)
                io.Write(0x3f8, 1, (uint)i);
            return 0;
        });
        Report("MMIO read, dispatcher (AddressSpace.Read, 4 bytes)", accesses, () =>
        {
            ulong sum = 0;
            for (var i = 0; i < accesses; i++)
                sum += memory.Read(0xFEE00030, 4);
            return (uint)sum;
        });
        var cpu = new X86Cpu(memory, io);
        Report("guest IN AL,DX loop (CPU + dispatcher)", accesses, () => RunGuest(cpu, memory, accesses, a => a.@in(al, dx)));
        Report("guest MOV EAX,[MMIO] loop (CPU + dispatcher)", accesses, () => RunGuest(cpu, memory, accesses, a => a.mov(eax, __dword_ptr[0xFEE00030])));
        return 0;
    }

    private static uint RunGuest(X86Cpu cpu, AddressSpace memory, int accesses, Action<Assembler> access)
    {
        var a = new Assembler(32);
        var loop = a.CreateLabel();
        a.mov(ecx, accesses);
        a.mov(edx, 0x3fd);
        a.Label(ref loop);
        access(a);
        a.dec(ecx);
        a.jnz(loop);
        a.hlt();
        var code = new MemoryStream();
        a.Assemble(new StreamCodeWriter(code), 0x1000);
        memory.LoadImage(0x1000, code.ToArray());
        cpu.EnterFlatProtectedMode(0x1000);
        cpu.Run();
        return cpu.GetRegister(0);
    }

    private static void Report(string name, int accesses, Func<uint> run)
    {
        run();
        var samples = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            var started = Stopwatch.GetTimestamp();
            run();
            samples.Add(Stopwatch.GetElapsedTime(started).TotalNanoseconds / accesses);
        }
        Console.WriteLine($"  {name,-58} {Stats.Median(samples),8:F1} ns");
    }

    /// <summary>A device with eight byte registers (and dwords at 0x30), like a UART or an APIC page.</summary>
    private sealed class ScratchRegisters : IIoHandler
    {
        private ulong _value;

        public ulong Read(ulong offset, int size) => _value + offset;

        public void Write(ulong offset, int size, ulong value) => _value = value;
    }
}
