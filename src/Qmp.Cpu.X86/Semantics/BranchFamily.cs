using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>Near JMP, Jcc, CALL, RET, LOOP/LOOPE/LOOPNE, JCXZ/JECXZ; far forms are in <see cref="SystemFamily"/>.</summary>
internal static unsafe class BranchFamily
{
    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Jmp, SelectJmp);
        table.Add(Mnemonic.Call, SelectCall);
        table.Add(Mnemonic.Ret, (in Instruction i) => i.Code is Code.Retnw or Code.Retnw_imm16 ? P(&Ret<Size16>) : P(&Ret<Size32>));
        foreach (var m in new[] { Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne, Mnemonic.Jbe, Mnemonic.Ja,
                     Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle, Mnemonic.Jg })
            table.Add(m, (in Instruction i) => P(&Jcc));
        table.Add(Mnemonic.Loop, (in Instruction i) => CounterIs16(i) ? P(&Loop<Counter16, LoopAlways>) : P(&Loop<Counter32, LoopAlways>));
        table.Add(Mnemonic.Loope, (in Instruction i) => CounterIs16(i) ? P(&Loop<Counter16, LoopWhileZero>) : P(&Loop<Counter32, LoopWhileZero>));
        table.Add(Mnemonic.Loopne, (in Instruction i) => CounterIs16(i) ? P(&Loop<Counter16, LoopWhileNotZero>) : P(&Loop<Counter32, LoopWhileNotZero>));
        table.Add(Mnemonic.Jcxz, (in Instruction i) => P(&Jcxz<Counter16>));
        table.Add(Mnemonic.Jecxz, (in Instruction i) => P(&Jcxz<Counter32>));
    }

    /// <summary>The fused CMP/TEST + Jcc routine for <paramref name="compare"/>'s operand forms, or 0.</summary>
    public static nint SelectCompareAndBranch(in Instruction compare)
    {
        var bits = Bits0(compare);
        var imm = Imm(compare, 1);
        var test = compare.Mnemonic == Mnemonic.Test;
        if (compare.Op1Kind == OpKind.Memory)
        {
            return test ? 0 : BySize(bits, P(&CompareAndBranch<Size8, CmpOp, RegLocation, MemSource>), P(&CompareAndBranch<Size16, CmpOp, RegLocation, MemSource>),
                P(&CompareAndBranch<Size32, CmpOp, RegLocation, MemSource>));
        }
        if (Reg0(compare))
        {
            return (test, imm) switch
            {
                (false, false) => BySize(bits, P(&CompareAndBranch<Size8, CmpOp, RegLocation, RegSource>), P(&CompareAndBranch<Size16, CmpOp, RegLocation, RegSource>), P(&CompareAndBranch<Size32, CmpOp, RegLocation, RegSource>)),
                (false, true) => BySize(bits, P(&CompareAndBranch<Size8, CmpOp, RegLocation, ImmSource>), P(&CompareAndBranch<Size16, CmpOp, RegLocation, ImmSource>), P(&CompareAndBranch<Size32, CmpOp, RegLocation, ImmSource>)),
                (true, false) => BySize(bits, P(&CompareAndBranch<Size8, TestOp, RegLocation, RegSource>), P(&CompareAndBranch<Size16, TestOp, RegLocation, RegSource>), P(&CompareAndBranch<Size32, TestOp, RegLocation, RegSource>)),
                (true, true) => BySize(bits, P(&CompareAndBranch<Size8, TestOp, RegLocation, ImmSource>), P(&CompareAndBranch<Size16, TestOp, RegLocation, ImmSource>), P(&CompareAndBranch<Size32, TestOp, RegLocation, ImmSource>)),
            };
        }
        return (test, imm) switch
        {
            (false, true) => BySize(bits, P(&CompareAndBranch<Size8, CmpOp, MemLocation, ImmSource>), P(&CompareAndBranch<Size16, CmpOp, MemLocation, ImmSource>), P(&CompareAndBranch<Size32, CmpOp, MemLocation, ImmSource>)),
            (true, true) => BySize(bits, P(&CompareAndBranch<Size8, TestOp, MemLocation, ImmSource>), P(&CompareAndBranch<Size16, TestOp, MemLocation, ImmSource>), P(&CompareAndBranch<Size32, TestOp, MemLocation, ImmSource>)),
            (true, false) => BySize(bits, P(&CompareAndBranch<Size8, TestOp, MemLocation, RegSource>), P(&CompareAndBranch<Size16, TestOp, MemLocation, RegSource>), P(&CompareAndBranch<Size32, TestOp, MemLocation, RegSource>)),
            _ => 0,
        };
    }

    // CMP/TEST then Jcc as one op: the same semantics as the two routines run in turn (flags are
    // still recorded for later readers); Imm2 holds the condition, Target the branch target.
    private static void CompareAndBranch<TSize, TOp, TDst, TSrc>(X86Cpu cpu, DecodedOp* op)
        where TSize : IOpSize where TOp : IAluOp where TDst : ILocation where TSrc : ISource
    {
        var src = TSrc.Read<TSize>(cpu, op);
        var dst = TDst.Read<TSize>(cpu, op, false, out _);
        TOp.Apply<TSize>(cpu, dst, src);
        if (!cpu.Condition((int)op->Imm2))
            return;
        if (op->Target <= cpu.Cs.Limit)
        {
            cpu.Eip = op->Target;
            return;
        }
        // A target past the CS limit faults on the Jcc, not the compare: stop at the Jcc, which
        // runs (and faults) on its own as the first instruction of the next block.
        cpu.Eip = op->Eip + op->Length;
        cpu.StopBlock = true;
    }

    private static bool CounterIs16(in Instruction i) => i.Code is Code.Loop_rel8_16_CX or Code.Loop_rel8_32_CX
        or Code.Loope_rel8_16_CX or Code.Loope_rel8_32_CX or Code.Loopne_rel8_16_CX or Code.Loopne_rel8_32_CX;

    private static nint SelectJmp(in Instruction i)
    {
        if (i.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32 || i.Code is Code.Jmp_m1616 or Code.Jmp_m1632)
            return SystemFamily.SelectFarJmp(i);
        if (i.Op0Kind is OpKind.NearBranch16 or OpKind.NearBranch32)
            return P(&JmpRel);
        return Bits0(i) == 16
            ? (Reg0(i) ? P(&JmpIndirect<Size16, RegLocation>) : P(&JmpIndirect<Size16, MemLocation>))
            : (Reg0(i) ? P(&JmpIndirect<Size32, RegLocation>) : P(&JmpIndirect<Size32, MemLocation>));
    }

    private static nint SelectCall(in Instruction i)
    {
        if (i.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32 || i.Code is Code.Call_m1616 or Code.Call_m1632)
            return SystemFamily.SelectFarCall(i);
        if (i.Op0Kind == OpKind.NearBranch16)
            return P(&CallRel<Size16>);
        if (i.Op0Kind == OpKind.NearBranch32)
            return P(&CallRel<Size32>);
        return Bits0(i) == 16
            ? (Reg0(i) ? P(&CallIndirect<Size16, RegLocation>) : P(&CallIndirect<Size16, MemLocation>))
            : (Reg0(i) ? P(&CallIndirect<Size32, RegLocation>) : P(&CallIndirect<Size32, MemLocation>));
    }

    private static void JmpRel(X86Cpu cpu, DecodedOp* op) => cpu.NearBranch(op->Imm);

    private static void Jcc(X86Cpu cpu, DecodedOp* op)
    {
        if (cpu.Condition((int)op->Imm2))
            cpu.NearBranch(op->Imm);
        else
            cpu.Eip = op->NextEip;
    }

    private static void JmpIndirect<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation =>
        cpu.NearBranch(TLoc.Read<TSize>(cpu, op, false, out _));

    private static void CallRel<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        cpu.CheckNearBranch(op->Imm);
        StackFamily.Push<TSize>(cpu, op->NextEip & TSize.Mask);
        cpu.Eip = op->Imm;
    }

    private static void CallIndirect<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation
    {
        var target = TLoc.Read<TSize>(cpu, op, false, out _);
        cpu.CheckNearBranch(target);
        StackFamily.Push<TSize>(cpu, op->NextEip & TSize.Mask);
        cpu.Eip = target;
    }

    private static void Ret<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var target = cpu.PeekStack(0, TSize.Bits == 32);
        cpu.CheckNearBranch(target);
        cpu.SetStackPointer(cpu.StackPointer + (uint)TSize.Bits / 8 + op->Imm);
        cpu.Eip = target;
    }

    private static void Loop<TCounter, TCondition>(X86Cpu cpu, DecodedOp* op) where TCounter : ICounter where TCondition : ILoopCondition
    {
        var count = (TCounter.Get(cpu) - 1) & TCounter.Mask;
        TCounter.Set(cpu, count);
        if (count != 0 && TCondition.Continue(cpu))
            cpu.NearBranch(op->Imm);
        else
            cpu.Eip = op->NextEip;
    }

    private static void Jcxz<TCounter>(X86Cpu cpu, DecodedOp* op) where TCounter : ICounter
    {
        if (TCounter.Get(cpu) == 0)
            cpu.NearBranch(op->Imm);
        else
            cpu.Eip = op->NextEip;
    }
}
