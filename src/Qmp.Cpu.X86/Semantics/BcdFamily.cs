using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// The legacy decimal-arithmetic instructions DAA DAS AAA AAS AAM AAD, SALC and BOUND. For the flags
/// the manuals leave undefined we make QEMU's choice: DAA/DAS clear OF, AAA/AAS leave SF ZF PF
/// OF unchanged, AAM/AAD clear OF AF CF.
/// </summary>
internal static unsafe class BcdFamily
{
    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Daa, (in Instruction i) => P(&Daa));
        table.Add(Mnemonic.Das, (in Instruction i) => P(&Das));
        table.Add(Mnemonic.Aaa, (in Instruction i) => P(&Aaa));
        table.Add(Mnemonic.Aas, (in Instruction i) => P(&Aas));
        table.Add(Mnemonic.Aam, (in Instruction i) => P(&Aam));
        table.Add(Mnemonic.Aad, (in Instruction i) => P(&Aad));
        table.Add(Mnemonic.Salc, (in Instruction i) => P(&Salc));
        table.Add(Mnemonic.Bound, (in Instruction i) => Bits0(i) == 16 ? P(&Bound<Size16>) : P(&Bound<Size32>));
    }

    private static uint SzpOf(uint al) => Flags.Parity(al) | (al == 0 ? Flags.ZF : 0) | ((al & 0x80) != 0 ? Flags.SF : 0);

    private static void Daa(X86Cpu cpu, DecodedOp* op)
    {
        var flags = cpu.Eflags;
        var oldAl = cpu.GetReg8(0);
        var oldCf = (flags & Flags.CF) != 0;
        uint al = oldAl;
        uint cf = 0, af = 0;
        if ((al & 0xF) > 9 || (flags & Flags.AF) != 0)
        {
            al += 6;
            cf = oldCf || al > 0xFF ? Flags.CF : 0;
            af = Flags.AF;
            al &= 0xFF;
        }
        if (oldAl > 0x99 || oldCf)
        {
            al = (al + 0x60) & 0xFF;
            cf = Flags.CF;
        }
        else
            cf = 0;
        cpu.SetReg8(0, al);
        cpu.SetStatusFlags(Flags.Arith, SzpOf(al) | cf | af);
    }

    private static void Das(X86Cpu cpu, DecodedOp* op)
    {
        var flags = cpu.Eflags;
        var oldAl = cpu.GetReg8(0);
        var oldCf = (flags & Flags.CF) != 0;
        uint al = oldAl;
        uint cf = 0, af = 0;
        if ((al & 0xF) > 9 || (flags & Flags.AF) != 0)
        {
            cf = oldCf || al < 6 ? Flags.CF : 0;
            al = (al - 6) & 0xFF;
            af = Flags.AF;
        }
        if (oldAl > 0x99 || oldCf)
        {
            al = (al - 0x60) & 0xFF;
            cf = Flags.CF;
        }
        cpu.SetReg8(0, al);
        cpu.SetStatusFlags(Flags.Arith, SzpOf(al) | cf | af);
    }

    private static void Aaa(X86Cpu cpu, DecodedOp* op)
    {
        var ax = cpu.Reg(Gpr32.Eax) & 0xFFFF;
        if ((ax & 0xF) > 9 || (cpu.Eflags & Flags.AF) != 0)
        {
            ax = (ax + 0x106) & 0xFFFF;
            cpu.SetStatusFlags(Flags.AF | Flags.CF, Flags.AF | Flags.CF);
        }
        else
            cpu.SetStatusFlags(Flags.AF | Flags.CF, 0);
        cpu.SetReg16(Gpr32.Eax, ax & 0xFF0F);
    }

    private static void Aas(X86Cpu cpu, DecodedOp* op)
    {
        var ax = cpu.Reg(Gpr32.Eax) & 0xFFFF;
        if ((ax & 0xF) > 9 || (cpu.Eflags & Flags.AF) != 0)
        {
            ax = (ax - 6) & 0xFFFF;
            ax = (ax - 0x100) & 0xFFFF;
            cpu.SetStatusFlags(Flags.AF | Flags.CF, Flags.AF | Flags.CF);
        }
        else
            cpu.SetStatusFlags(Flags.AF | Flags.CF, 0);
        cpu.SetReg16(Gpr32.Eax, ax & 0xFF0F);
    }

    private static void Aam(X86Cpu cpu, DecodedOp* op)
    {
        var divisor = op->Imm & 0xFF;
        if (divisor == 0)
            throw X86Cpu.Fault(CpuException.DE);
        var al = cpu.GetReg8(0);
        var result = al % divisor;
        cpu.SetReg16(Gpr32.Eax, ((al / divisor) << 8) | result);
        cpu.SetStatusFlags(Flags.Arith, SzpOf(result));
    }

    private static void Aad(X86Cpu cpu, DecodedOp* op)
    {
        var al = (cpu.GetReg8(0) + cpu.GetReg8(4) * (op->Imm & 0xFF)) & 0xFF;
        cpu.SetReg16(Gpr32.Eax, al);
        cpu.SetStatusFlags(Flags.Arith, SzpOf(al));
    }

    // Undocumented but executed by every Intel processor: AL = CF ? 0xFF : 0.
    private static void Salc(X86Cpu cpu, DecodedOp* op) => cpu.SetReg8(0, cpu.CF ? 0xFFu : 0);

    private static void Bound<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var ea = cpu.EffectiveAddress(op);
        var size = (uint)TSize.Bits / 8;
        var lower = TSize.LoadLinear(cpu, cpu.Linear(op->Seg, ea, TSize.Bits / 8, false));
        var upper = TSize.LoadLinear(cpu, cpu.Linear(op->Seg, op->Addr16 != 0 ? (ea + size) & 0xFFFF : ea + size, TSize.Bits / 8, false));
        var index = TSize.GetReg(cpu, op->R0);
        int Signed(uint v) => TSize.Bits == 16 ? (short)v : (int)v;
        if (Signed(index) < Signed(lower) || Signed(index) > Signed(upper))
            throw X86Cpu.Fault(CpuException.BR);
    }
}
