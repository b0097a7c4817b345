using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// System instructions: segment and descriptor-table loads, control and debug registers, MSRs,
/// CPUID, TSC, HLT, CLI/STI, port I/O, software interrupts, far transfers and IRET, SYSENTER.
/// A handler that changes how the rest of the block would execute sets <c>StopBlock</c>.
/// Task switches (task gates, IRET with NT) are not implemented and raise #GP(0).
/// </summary>
internal static unsafe partial class SystemFamily
{
    public static void Register(OpTableBuilder table)
    {
        RegisterSegments(table);
        RegisterControl(table);
        RegisterIo(table);
        RegisterFar(table);
        table.Add(Mnemonic.Ud2, (in Instruction i) => P(&InvalidOpcode));
        table.Add(Mnemonic.Ud0, (in Instruction i) => P(&InvalidOpcode));
        table.Add(Mnemonic.Ud1, (in Instruction i) => P(&InvalidOpcode));
        table.Add(Mnemonic.Wait, SelectFpu);
    }

    /// <summary>The x87 escapes and WAIT: the FPU is absent (see <see cref="CpuidInfo"/>).</summary>
    public static nint SelectFpu(in Instruction instruction) => P(&FpuAbsent);

    /// <summary>#UD for opcodes with no semantics: invalid encodings and unimplemented extensions.</summary>
    public static void InvalidOpcode(X86Cpu cpu, DecodedOp* op) => throw X86Cpu.Fault(CpuException.UD);

    // No FPU is present: with CR0.EM or CR0.TS set the OS may emulate it (#NM), otherwise #UD.
    private static void FpuAbsent(X86Cpu cpu, DecodedOp* op)
    {
        var emulate = (cpu.Cr0 & 0x4) != 0;
        var switched = (cpu.Cr0 & 0x8) != 0;
        if (op->Code == (ushort)Code.Wait && !(switched && (cpu.Cr0 & 0x2) != 0))
            return;
        throw X86Cpu.Fault(emulate || switched ? CpuException.NM : CpuException.UD);
    }

    /// <summary>#GP(0) unless running at CPL 0 (protected mode) or in real mode.</summary>
    public static void RequireCpl0(X86Cpu cpu)
    {
        if (cpu.ProtectedMode && (cpu.Cpl != 0 || cpu.Vm86))
            throw X86Cpu.Fault(CpuException.GP, 0);
    }

    /// <summary>#UD in real mode and VM86 (LAR, LSL, VERR, VERW, ARPL, LLDT, LTR...).</summary>
    public static void RequireProtectedMode(X86Cpu cpu)
    {
        if (!cpu.ProtectedMode || cpu.Vm86)
            throw X86Cpu.Fault(CpuException.UD);
    }

    public static nint SelectSpecialMov(in Instruction i)
    {
        var r0 = i.Op0Kind == OpKind.Register ? i.Op0Register : Iced.Intel.Register.None;
        var r1 = i.Op1Kind == OpKind.Register ? i.Op1Register : Iced.Intel.Register.None;
        if (r0.IsSegmentRegister())
            return Mem(i, 1) ? P(&MovToSreg<MemSource>) : P(&MovToSreg<RegSource>);
        if (r1.IsSegmentRegister())
            return Reg0(i) ? (Bits0(i) == 32 ? P(&MovFromSreg32) : P(&MovFromSreg<RegLocation>)) : P(&MovFromSreg<MemLocation>);
        if (r0.IsCR())
            return P(&MovToCr);
        if (r1.IsCR())
            return P(&MovFromCr);
        if (r0.IsDR())
            return P(&MovToDr);
        if (r1.IsDR())
            return P(&MovFromDr);
        return 0;
    }
}
