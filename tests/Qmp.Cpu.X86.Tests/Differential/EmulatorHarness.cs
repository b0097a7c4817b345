using System.Buffers.Binary;
using Qmp.Memory;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// Runs a <see cref="CpuCase"/> on qmpd's CPU the way the native harness runs it on the host:
/// ring 3, flat segments, paging on with only the code and data windows mapped as user pages,
/// so stray accesses page-fault as they do under Linux. Every exception goes through a ring-0
/// interrupt gate (a real privilege change through the TSS) to a stub that halts; the frame on
/// the ring-0 stack gives the vector, error code and the user registers at the fault. The case
/// ends with INT 0x40, which the generator never produces.
/// </summary>
internal sealed class EmulatorHarness : IDisposable
{
    private const uint PageDirectory = 0x1000, LowTable = 0x2000, DataTable = 0x3000, CodeTable = 0x4000;
    private const uint Gdt = 0x5000, Idt = 0x6000, Tss = 0x7000, Stubs = 0x8000, Ring0Stack = 0xF000;
    private const uint DataPhysical = 0x10000, CodePhysical = 0x20000;
    private const int EndVector = 0x40;
    private const long BlockBudget = 200_000;

    private readonly RamBlock _ram = RamBlock.CreateAnonymous("ram", 1 << 20);
    private readonly AddressSpace _memory = new("memory");
    private readonly X86Cpu _cpu;

    public EmulatorHarness()
    {
        _memory.Map(0, MemoryRegion.Ram("ram", _ram, 0, 1 << 20));
        _cpu = new X86Cpu(_memory, new PortIoSpace());
    }

    public CpuOutcome Run(CpuCase c)
    {
        _ram.GetSpan(0, 1 << 20).Clear();
        BuildSystemTables();
        _memory.LoadImage(DataPhysical, c.Data);
        var code = new byte[c.Code.Length + 2];
        c.Code.CopyTo(code, 0);
        code[^2] = 0xCD;
        code[^1] = EndVector;
        _memory.LoadImage(CodePhysical, code);
        EnterUserMode(c);
        var exit = _cpu.Run(BlockBudget);
        var data = _ram.GetSpan(DataPhysical, CpuLayout.DataSize).ToArray();
        if (exit != CpuExit.Halted || _cpu.Cpl != 0)
            return new CpuOutcome { Registers = UserRegisters(_cpu.Reg(Gpr32.Esp)), Eip = _cpu.Eip, Eflags = _cpu.Eflags, TimedOut = true, Data = data, Vector = 0xFFFFFFFE };
        var vector = (_cpu.Eip - 1 - Stubs) / 16;
        var frame = _cpu.Reg(Gpr32.Esp);
        uint errorCode = 0;
        if (OutcomeComparer.HasErrorCode(vector))
        {
            errorCode = Read32(frame);
            frame += 4;
        }
        var eip = Read32(frame);
        var eflags = Read32(frame + 8) & ~Flags.RF;
        var esp = Read32(frame + 12);
        if (vector == EndVector)
            return new CpuOutcome { Registers = UserRegisters(esp), Eip = eip - 2, Eflags = eflags, Data = data };
        return new CpuOutcome
        {
            Registers = UserRegisters(esp),
            Eip = eip,
            Eflags = eflags,
            Vector = vector,
            ErrorCode = OutcomeComparer.HasErrorCode(vector) ? errorCode : 0,
            Cr2 = vector == 14 ? _cpu.Cr2 : 0,
            Data = data,
        };
    }

    public void Dispose() => _ram.Dispose();

    private uint Read32(uint physical) => BinaryPrimitives.ReadUInt32LittleEndian(_ram.GetSpan(physical, 4));

    private void Write32(uint physical, uint value) => _memory.LoadImage(physical, BitConverter.GetBytes(value));

    private void Write64(uint physical, ulong value) => _memory.LoadImage(physical, BitConverter.GetBytes(value));

    private uint[] UserRegisters(uint esp)
    {
        var registers = new uint[8];
        for (var r = 0; r < 8; r++)
            registers[r] = _cpu.Reg(r);
        registers[Gpr32.Esp] = esp;
        return registers;
    }

    private void BuildSystemTables()
    {
        // Page tables: the low 1 MiB identity-mapped for the supervisor; the windows as user pages.
        Write32(PageDirectory + 0, LowTable | 0x3);
        Write32(PageDirectory + (CpuLayout.DataBase >> 22) * 4, DataTable | 0x7);
        Write32(PageDirectory + (CpuLayout.CodeBase >> 22) * 4, CodeTable | 0x7);
        for (uint page = 0; page < 256; page++)
            Write32(LowTable + page * 4, (page << 12) | 0x3);
        for (uint page = 0; page < CpuLayout.DataSize / 4096; page++)
            Write32(DataTable + ((CpuLayout.DataBase >> 12) & 0x3FF) * 4 + page * 4, (DataPhysical + page * 4096) | 0x7);
        for (uint page = 0; page < CpuLayout.CodeSize / 4096; page++)
            Write32(CodeTable + ((CpuLayout.CodeBase >> 12) & 0x3FF) * 4 + page * 4, (CodePhysical + page * 4096) | 0x7);
        // GDT: null, ring-0 code and data, ring-3 code and data, TSS.
        Write64(Gdt + 0x08, 0x00CF9B000000FFFF);
        Write64(Gdt + 0x10, 0x00CF93000000FFFF);
        Write64(Gdt + 0x18, 0x00CFFB000000FFFF);
        Write64(Gdt + 0x20, 0x00CFF3000000FFFF);
        Write64(Gdt + 0x28, 0x0000890000000067 | ((ulong)Tss << 16));
        Write32(Tss + 4, Ring0Stack);
        Write32(Tss + 8, 0x10);
        // IDT: every vector to its own "hlt" stub; DPL 3 so INT3, INTO and INT 0x40 reach them from ring 3.
        for (uint vector = 0; vector < 256; vector++)
        {
            var stub = Stubs + vector * 16;
            _memory.LoadImage(stub, [0xF4]);
            var gate = (stub & 0xFFFF) | (0x08UL << 16) | (0xEEUL << 40) | ((ulong)(stub >> 16) << 48);
            Write64(Idt + vector * 8, gate);
        }
    }

    private void EnterUserMode(CpuCase c)
    {
        _cpu.Reset();
        _cpu.Cr3 = PageDirectory;
        _cpu.Cr0 = 0x80000011;
        _cpu.GdtrBase = Gdt;
        _cpu.GdtrLimit = 0x2F;
        _cpu.IdtrBase = Idt;
        _cpu.IdtrLimit = 256 * 8 - 1;
        _cpu.Tr = X86Cpu.ParseDescriptor(0x28, 0x00008B0000000067 | ((ulong)Tss << 16));
        _cpu.Cs = X86Cpu.ParseDescriptor(0x1B, 0x00CFFB000000FFFF);
        var data = X86Cpu.ParseDescriptor(0x23, 0x00CFF3000000FFFF);
        _cpu.Ss = _cpu.Ds = _cpu.Es = _cpu.Fs = _cpu.Gs = data;
        _cpu.SetCpl(3);
        _cpu.FlushTlb();
        for (var r = 0; r < 8; r++)
            _cpu.Reg(r) = c.Registers[r];
        _cpu.Eflags = CpuLayout.EffectiveInputFlags(c.Eflags);
        _cpu.Eip = CpuLayout.CodeBase;
    }
}
