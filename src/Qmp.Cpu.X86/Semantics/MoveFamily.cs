using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>MOV, MOVZX, MOVSX, LEA, XCHG, CBW/CWDE/CWD/CDQ, XLAT, LAHF/SAHF, BSWAP, CMOVcc, SETcc, NOP.</summary>
internal static unsafe class MoveFamily
{
    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Mov, SelectMov);
        table.Add(Mnemonic.Movzx, (in Instruction i) => SelectExtend(i, signed: false));
        table.Add(Mnemonic.Movsx, (in Instruction i) => SelectExtend(i, signed: true));
        table.Add(Mnemonic.Lea, (in Instruction i) => Bits0(i) == 16 ? P(&Lea<Size16>) : P(&Lea<Size32>));
        table.Add(Mnemonic.Xchg, (in Instruction i) => AluFamily.ByLocation(i, P(&Xchg<Size8, RegLocation>), P(&Xchg<Size16, RegLocation>), P(&Xchg<Size32, RegLocation>),
            P(&Xchg<Size8, MemLocation>), P(&Xchg<Size16, MemLocation>), P(&Xchg<Size32, MemLocation>)));
        table.Add(Mnemonic.Nop, (in Instruction i) => P(&Nop));
        // PAUSE (F3 90) is a spin-loop hint with no architectural effect.
        table.Add(Mnemonic.Pause, (in Instruction i) => P(&Nop));
        table.Add(Mnemonic.Cbw, (in Instruction i) => P(&Cbw));
        table.Add(Mnemonic.Cwde, (in Instruction i) => P(&Cwde));
        table.Add(Mnemonic.Cwd, (in Instruction i) => P(&Cwd));
        table.Add(Mnemonic.Cdq, (in Instruction i) => P(&Cdq));
        table.Add(Mnemonic.Xlatb, (in Instruction i) => P(&Xlat));
        table.Add(Mnemonic.Lahf, (in Instruction i) => P(&Lahf));
        table.Add(Mnemonic.Sahf, (in Instruction i) => P(&Sahf));
        table.Add(Mnemonic.Bswap, (in Instruction i) => Bits0(i) == 32 ? P(&Bswap32) : P(&Bswap16));
        foreach (var m in new[] { Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove, Mnemonic.Cmovne, Mnemonic.Cmovbe, Mnemonic.Cmova,
                     Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp, Mnemonic.Cmovnp, Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg })
        {
            table.Add(m, (in Instruction i) => Bits0(i) == 16
                ? (Mem(i, 1) ? P(&Cmov<Size16, MemSource>) : P(&Cmov<Size16, RegSource>))
                : (Mem(i, 1) ? P(&Cmov<Size32, MemSource>) : P(&Cmov<Size32, RegSource>)));
        }
        foreach (var m in new[] { Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne, Mnemonic.Setbe, Mnemonic.Seta,
                     Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp, Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg })
        {
            table.Add(m, (in Instruction i) => Reg0(i) ? P(&Setcc<RegLocation>) : P(&Setcc<MemLocation>));
        }
    }

    private static nint SelectMov(in Instruction i)
    {
        if ((i.Op0Kind == OpKind.Register && !i.Op0Register.IsGPR()) || (i.Op1Kind == OpKind.Register && !i.Op1Register.IsGPR()))
            return SystemFamily.SelectSpecialMov(i);
        var bits = Bits0(i);
        if (Reg0(i))
        {
            if (i.Op1Kind == OpKind.Register)
                return BySize(bits, P(&Mov<Size8, RegLocation, RegSource>), P(&Mov<Size16, RegLocation, RegSource>), P(&Mov<Size32, RegLocation, RegSource>));
            if (i.Op1Kind == OpKind.Memory)
                return BySize(bits, P(&Mov<Size8, RegLocation, MemSource>), P(&Mov<Size16, RegLocation, MemSource>), P(&Mov<Size32, RegLocation, MemSource>));
            return BySize(bits, P(&Mov<Size8, RegLocation, ImmSource>), P(&Mov<Size16, RegLocation, ImmSource>), P(&Mov<Size32, RegLocation, ImmSource>));
        }
        if (i.Op1Kind == OpKind.Register)
            return BySize(bits, P(&Mov<Size8, MemLocation, RegSource>), P(&Mov<Size16, MemLocation, RegSource>), P(&Mov<Size32, MemLocation, RegSource>));
        return BySize(bits, P(&Mov<Size8, MemLocation, ImmSource>), P(&Mov<Size16, MemLocation, ImmSource>), P(&Mov<Size32, MemLocation, ImmSource>));
    }

    private static nint SelectExtend(in Instruction i, bool signed)
    {
        var to = Bits0(i);
        var from = Bits1(i);
        var mem = Mem(i, 1);
        return (to, from, mem, signed) switch
        {
            (16, 8, false, false) => P(&Extend<Size16, Size8, RegSource, ZeroExtend>),
            (16, 8, true, false) => P(&Extend<Size16, Size8, MemSource, ZeroExtend>),
            (32, 8, false, false) => P(&Extend<Size32, Size8, RegSource, ZeroExtend>),
            (32, 8, true, false) => P(&Extend<Size32, Size8, MemSource, ZeroExtend>),
            (16, 16, false, false) => P(&Extend<Size16, Size16, RegSource, ZeroExtend>),
            (16, 16, true, false) => P(&Extend<Size16, Size16, MemSource, ZeroExtend>),
            (32, 16, false, false) => P(&Extend<Size32, Size16, RegSource, ZeroExtend>),
            (32, 16, true, false) => P(&Extend<Size32, Size16, MemSource, ZeroExtend>),
            (16, 8, false, true) => P(&Extend<Size16, Size8, RegSource, SignExtend>),
            (16, 8, true, true) => P(&Extend<Size16, Size8, MemSource, SignExtend>),
            (32, 8, false, true) => P(&Extend<Size32, Size8, RegSource, SignExtend>),
            (32, 8, true, true) => P(&Extend<Size32, Size8, MemSource, SignExtend>),
            (16, 16, false, true) => P(&Extend<Size16, Size16, RegSource, SignExtend>),
            (16, 16, true, true) => P(&Extend<Size16, Size16, MemSource, SignExtend>),
            (32, 16, false, true) => P(&Extend<Size32, Size16, RegSource, SignExtend>),
            (32, 16, true, true) => P(&Extend<Size32, Size16, MemSource, SignExtend>),
            _ => 0,
        };
    }

    private static void Mov<TSize, TDst, TSrc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TDst : ILocation where TSrc : ISource
    {
        var value = TSrc.Read<TSize>(cpu, op);
        TDst.Write<TSize>(cpu, op, TDst.Resolve<TSize>(cpu, op), value);
    }

    private static void Extend<TTo, TFrom, TSrc, TExt>(X86Cpu cpu, DecodedOp* op) where TTo : IOpSize where TFrom : IOpSize where TSrc : ISource where TExt : IExtension
    {
        var value = TSrc.Read<TFrom>(cpu, op);
        if (TExt.Signed && (value & TFrom.SignBit) != 0)
            value |= ~TFrom.Mask;
        TTo.SetReg(cpu, op->R0, value & TTo.Mask);
    }

    private static void Lea<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize =>
        TSize.SetReg(cpu, op->R0, cpu.EffectiveAddress(op) & TSize.Mask);

    private static void Xchg<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation
    {
        var a = TLoc.Read<TSize>(cpu, op, true, out var handle);
        var b = TSize.GetReg(cpu, op->R1);
        TLoc.Write<TSize>(cpu, op, handle, b);
        TSize.SetReg(cpu, op->R1, a);
    }

    private static void Nop(X86Cpu cpu, DecodedOp* op)
    {
    }

    private static void Cbw(X86Cpu cpu, DecodedOp* op) => cpu.SetReg16(Gpr32.Eax, (uint)(short)(sbyte)cpu.Reg(Gpr32.Eax));

    private static void Cwde(X86Cpu cpu, DecodedOp* op) => cpu.Reg(Gpr32.Eax) = (uint)(short)cpu.Reg(Gpr32.Eax);

    private static void Cwd(X86Cpu cpu, DecodedOp* op) => cpu.SetReg16(Gpr32.Edx, (cpu.Reg(Gpr32.Eax) & 0x8000) != 0 ? 0xFFFFu : 0);

    private static void Cdq(X86Cpu cpu, DecodedOp* op) => cpu.Reg(Gpr32.Edx) = (uint)((int)cpu.Reg(Gpr32.Eax) >> 31);

    private static void Xlat(X86Cpu cpu, DecodedOp* op)
    {
        var address = cpu.Reg(Gpr32.Ebx) + cpu.GetReg8(0);
        if (op->Addr16 != 0)
            address &= 0xFFFF;
        cpu.SetReg8(0, cpu.Read8(op->Seg, address));
    }

    private static void Lahf(X86Cpu cpu, DecodedOp* op) =>
        cpu.SetReg8(4, (cpu.Eflags & (Flags.SF | Flags.ZF | Flags.AF | Flags.PF | Flags.CF)) | Flags.Reserved1);

    private static void Sahf(X86Cpu cpu, DecodedOp* op) =>
        cpu.SetStatusFlags(Flags.SF | Flags.ZF | Flags.AF | Flags.PF | Flags.CF, cpu.GetReg8(4));

    private static void Bswap32(X86Cpu cpu, DecodedOp* op) =>
        cpu.Reg(op->R0) = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(cpu.Reg(op->R0));

    // BSWAP of a 16-bit register is undefined; Intel and AMD processors clear the word.
    private static void Bswap16(X86Cpu cpu, DecodedOp* op) => cpu.SetReg16(op->R0, 0);

    private static void Cmov<TSize, TSrc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TSrc : ISource
    {
        var value = TSrc.Read<TSize>(cpu, op);
        if (cpu.Condition((int)op->Imm2))
            TSize.SetReg(cpu, op->R0, value);
    }

    private static void Setcc<TLoc>(X86Cpu cpu, DecodedOp* op) where TLoc : ILocation
    {
        var value = cpu.Condition((int)op->Imm2) ? 1u : 0u;
        TLoc.Write<Size8>(cpu, op, TLoc.Resolve<Size8>(cpu, op), value);
    }
}
