using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

internal static unsafe partial class SystemFamily
{
    private const uint Cr0Writable = 0xE005003F; // PG CD NW AM WP NE ET TS EM MP PE
    private const uint Cr4Writable = 0x1FF;      // VME PVI TSD DE PSE PAE MCE PGE PCE

    private static void RegisterControl(OpTableBuilder table)
    {
        table.Add(Mnemonic.Lmsw, (in Instruction i) => Reg0(i) ? P(&Lmsw<RegSource0>) : P(&Lmsw<MemSource>));
        table.Add(Mnemonic.Smsw, (in Instruction i) => Reg0(i) ? (Bits0(i) == 32 ? P(&Smsw<Size32, RegLocation>) : P(&Smsw<Size16, RegLocation>)) : P(&Smsw<Size16, MemLocation>));
        table.Add(Mnemonic.Clts, (in Instruction i) => P(&Clts));
        table.Add(Mnemonic.Invlpg, (in Instruction i) => P(&Invlpg));
        table.Add(Mnemonic.Wbinvd, (in Instruction i) => P(&PrivilegedNop));
        table.Add(Mnemonic.Invd, (in Instruction i) => P(&PrivilegedNop));
        table.Add(Mnemonic.Hlt, (in Instruction i) => P(&Hlt));
        table.Add(Mnemonic.Cli, (in Instruction i) => P(&Cli));
        table.Add(Mnemonic.Sti, (in Instruction i) => P(&Sti));
        table.Add(Mnemonic.Rdtsc, (in Instruction i) => P(&Rdtsc));
        table.Add(Mnemonic.Rdmsr, (in Instruction i) => P(&Rdmsr));
        table.Add(Mnemonic.Wrmsr, (in Instruction i) => P(&Wrmsr));
        table.Add(Mnemonic.Cpuid, (in Instruction i) => P(&Cpuid));
        table.Add(Mnemonic.Sysenter, (in Instruction i) => P(&Sysenter));
        table.Add(Mnemonic.Sysexit, (in Instruction i) => P(&Sysexit));
        table.EndBlockAfter(Mnemonic.Hlt, Mnemonic.Sti, Mnemonic.Lmsw, Mnemonic.Clts, Mnemonic.Invlpg, Mnemonic.Wrmsr, Mnemonic.Sysenter, Mnemonic.Sysexit);
    }

    private static void MovToCr(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        var value = cpu.Reg(op->R1);
        switch (op->R0)
        {
            case 0:
                WriteCr0(cpu, value);
                break;
            case 2:
                cpu.Cr2 = value;
                break;
            case 3:
                cpu.Cr3 = value;
                cpu.FlushTlb();
                cpu.Blocks.FlushJumpCache();
                break;
            case 4:
                if ((value & ~Cr4Writable) != 0)
                    throw X86Cpu.Fault(CpuException.GP, 0);
                cpu.Cr4 = value;
                cpu.FlushTlb();
                cpu.Blocks.FlushJumpCache();
                break;
            default:
                throw X86Cpu.Fault(CpuException.UD);
        }
        cpu.StopBlock = true;
    }

    private static void WriteCr0(X86Cpu cpu, uint value)
    {
        if ((value & 0x80000001) == 0x80000000 || (value & 0x60000000) == 0x20000000)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var changed = cpu.Cr0 ^ value;
        cpu.Cr0 = (value & Cr0Writable) | 0x10;
        if ((changed & 0x80010001) != 0)
        {
            if ((changed & 1) != 0)
                cpu.SetCpl(0);
            cpu.FlushTlb();
            cpu.Blocks.FlushJumpCache();
        }
    }

    private static void MovFromCr(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        cpu.Reg(op->R0) = op->R1 switch
        {
            0 => cpu.Cr0,
            2 => cpu.Cr2,
            3 => cpu.Cr3,
            4 => cpu.Cr4,
            _ => throw X86Cpu.Fault(CpuException.UD),
        };
    }

    // Debug registers hold their values; hardware breakpoints are not implemented.
    private static int DebugRegister(X86Cpu cpu, int number)
    {
        if (number is 4 or 5)
        {
            if ((cpu.Cr4 & 0x8) != 0)
                throw X86Cpu.Fault(CpuException.UD);
            return number + 2;
        }
        return number;
    }

    private static void MovToDr(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        var value = cpu.Reg(op->R1);
        switch (DebugRegister(cpu, op->R0))
        {
            case 0: cpu.Dr0 = value; break;
            case 1: cpu.Dr1 = value; break;
            case 2: cpu.Dr2 = value; break;
            case 3: cpu.Dr3 = value; break;
            case 6: cpu.Dr6 = (value & 0xE00F) | 0xFFFF0FF0; break;
            case 7: cpu.Dr7 = (value & 0xFFFF2BFF) | 0x400; break;
            default: throw X86Cpu.Fault(CpuException.UD);
        }
    }

    private static void MovFromDr(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        cpu.Reg(op->R0) = DebugRegister(cpu, op->R1) switch
        {
            0 => cpu.Dr0,
            1 => cpu.Dr1,
            2 => cpu.Dr2,
            3 => cpu.Dr3,
            6 => cpu.Dr6,
            7 => cpu.Dr7,
            _ => throw X86Cpu.Fault(CpuException.UD),
        };
    }

    private static void Lmsw<TSrc>(X86Cpu cpu, DecodedOp* op) where TSrc : ISource
    {
        RequireCpl0(cpu);
        var value = TSrc.Read<Size16>(cpu, op) & 0xF;
        // LMSW sets PE but cannot clear it.
        WriteCr0(cpu, (cpu.Cr0 & ~0xEu) | value | (cpu.Cr0 & 1));
        cpu.StopBlock = true;
    }

    private static void Smsw<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation =>
        TLoc.Write<TSize>(cpu, op, TLoc.Resolve<TSize>(cpu, op), cpu.Cr0 & TSize.Mask);

    private static void Clts(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        cpu.Cr0 &= ~0x8u;
    }

    private static void Invlpg(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        var linear = cpu.Seg(op->Seg).Base + cpu.EffectiveAddress(op);
        cpu.FlushTlbPage(linear);
        cpu.Blocks.FlushJumpCache();
        cpu.StopBlock = true;
    }

    private static void PrivilegedNop(X86Cpu cpu, DecodedOp* op) => RequireCpl0(cpu);

    private static void Hlt(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        cpu.Halted = true;
        cpu.StopBlock = true;
    }

    private static bool InterruptFlagAllowed(X86Cpu cpu) =>
        !cpu.ProtectedMode || (cpu.Vm86 ? cpu.Iopl == 3 : cpu.Cpl <= cpu.Iopl);

    private static void Cli(X86Cpu cpu, DecodedOp* op)
    {
        if (!InterruptFlagAllowed(cpu))
            throw X86Cpu.Fault(CpuException.GP, 0);
        cpu.EflagsRaw &= ~Flags.IF;
    }

    private static void Sti(X86Cpu cpu, DecodedOp* op)
    {
        if (!InterruptFlagAllowed(cpu))
            throw X86Cpu.Fault(CpuException.GP, 0);
        if ((cpu.EflagsRaw & Flags.IF) == 0)
            cpu.InterruptShadow = true;
        cpu.EflagsRaw |= Flags.IF;
        cpu.StopBlock = true;
    }

    private static void Rdtsc(X86Cpu cpu, DecodedOp* op)
    {
        if ((cpu.Cr4 & 0x4) != 0 && cpu.Cpl != 0 && cpu.ProtectedMode)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var tsc = cpu.ReadTsc();
        cpu.Reg(Gpr32.Eax) = (uint)tsc;
        cpu.Reg(Gpr32.Edx) = (uint)(tsc >> 32);
    }

    private static void Rdmsr(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        var value = cpu.ReadMsr(cpu.Reg(Gpr32.Ecx)) ?? throw X86Cpu.Fault(CpuException.GP, 0);
        cpu.Reg(Gpr32.Eax) = (uint)value;
        cpu.Reg(Gpr32.Edx) = (uint)(value >> 32);
    }

    private static void Wrmsr(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        var value = ((ulong)cpu.Reg(Gpr32.Edx) << 32) | cpu.Reg(Gpr32.Eax);
        if (!cpu.WriteMsr(cpu.Reg(Gpr32.Ecx), value))
            throw X86Cpu.Fault(CpuException.GP, 0);
    }

    private static void Cpuid(X86Cpu cpu, DecodedOp* op)
    {
        var (eax, ebx, ecx, edx) = CpuidInfo.Query(cpu.Reg(Gpr32.Eax), cpu.ApicPresent);
        cpu.Reg(Gpr32.Eax) = eax;
        cpu.Reg(Gpr32.Ebx) = ebx;
        cpu.Reg(Gpr32.Ecx) = ecx;
        cpu.Reg(Gpr32.Edx) = edx;
    }

    private static SegmentCache FlatSegment(ushort selector, int dpl, bool code) => new()
    {
        Selector = selector,
        Base = 0,
        Limit = 0xFFFFFFFF,
        Attributes = (ushort)((code ? 0x9B : 0x93) | (dpl << 5) | SegmentCache.Big | SegmentCache.Granularity),
        Flat = true,
    };

    private static void Sysenter(X86Cpu cpu, DecodedOp* op)
    {
        if (!cpu.ProtectedMode || (cpu.SysenterCs & 0xFFFC) == 0)
            throw X86Cpu.Fault(CpuException.GP, 0);
        cpu.EflagsRaw &= ~(Flags.VM | Flags.IF | Flags.RF);
        var cs = (ushort)(cpu.SysenterCs & 0xFFFC);
        cpu.LoadCodeSegment(cs, FlatSegment(cs, 0, code: true), 0);
        cpu.Ss = FlatSegment((ushort)(cs + 8), 0, code: false);
        cpu.Reg(Gpr32.Esp) = cpu.SysenterEsp;
        cpu.Eip = cpu.SysenterEip;
        cpu.StopBlock = true;
    }

    private static void Sysexit(X86Cpu cpu, DecodedOp* op)
    {
        if (!cpu.ProtectedMode || cpu.Vm86 || cpu.Cpl != 0 || (cpu.SysenterCs & 0xFFFC) == 0)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var cs = (ushort)((cpu.SysenterCs + 16) | 3);
        cpu.LoadCodeSegment(cs, FlatSegment(cs, 3, code: true), 3);
        cpu.Ss = FlatSegment((ushort)((cpu.SysenterCs + 24) | 3), 3, code: false);
        cpu.Reg(Gpr32.Esp) = cpu.Reg(Gpr32.Ecx);
        cpu.Eip = cpu.Reg(Gpr32.Edx);
        cpu.StopBlock = true;
    }
}
