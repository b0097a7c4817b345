using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// MOVS CMPS SCAS LODS STOS with REP/REPE/REPNE; INS and OUTS are in <see cref="SystemFamily"/>
/// because of their I/O permission checks. A repeated instruction updates its registers after
/// every element, so a fault or an interrupt in the middle restarts it where it stopped; long
/// runs yield every <see cref="Chunk"/> elements so interrupts are not held off.
/// </summary>
internal static unsafe class StringFamily
{
    public const int Chunk = 4096;

    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Movsb, (in Instruction i) => Select(i, P(&Movs<Size8, Counter16>), P(&Movs<Size8, Counter32>)));
        table.Add(Mnemonic.Movsw, (in Instruction i) => Select(i, P(&Movs<Size16, Counter16>), P(&Movs<Size16, Counter32>)));
        table.Add(Mnemonic.Movsd, (in Instruction i) => Select(i, P(&Movs<Size32, Counter16>), P(&Movs<Size32, Counter32>)));
        table.Add(Mnemonic.Stosb, (in Instruction i) => Select(i, P(&Stos<Size8, Counter16>), P(&Stos<Size8, Counter32>)));
        table.Add(Mnemonic.Stosw, (in Instruction i) => Select(i, P(&Stos<Size16, Counter16>), P(&Stos<Size16, Counter32>)));
        table.Add(Mnemonic.Stosd, (in Instruction i) => Select(i, P(&Stos<Size32, Counter16>), P(&Stos<Size32, Counter32>)));
        table.Add(Mnemonic.Lodsb, (in Instruction i) => Select(i, P(&Lods<Size8, Counter16>), P(&Lods<Size8, Counter32>)));
        table.Add(Mnemonic.Lodsw, (in Instruction i) => Select(i, P(&Lods<Size16, Counter16>), P(&Lods<Size16, Counter32>)));
        table.Add(Mnemonic.Lodsd, (in Instruction i) => Select(i, P(&Lods<Size32, Counter16>), P(&Lods<Size32, Counter32>)));
        table.Add(Mnemonic.Cmpsb, (in Instruction i) => Select(i, P(&Cmps<Size8, Counter16>), P(&Cmps<Size8, Counter32>)));
        table.Add(Mnemonic.Cmpsw, (in Instruction i) => Select(i, P(&Cmps<Size16, Counter16>), P(&Cmps<Size16, Counter32>)));
        table.Add(Mnemonic.Cmpsd, (in Instruction i) => Select(i, P(&Cmps<Size32, Counter16>), P(&Cmps<Size32, Counter32>)));
        table.Add(Mnemonic.Scasb, (in Instruction i) => Select(i, P(&Scas<Size8, Counter16>), P(&Scas<Size8, Counter32>)));
        table.Add(Mnemonic.Scasw, (in Instruction i) => Select(i, P(&Scas<Size16, Counter16>), P(&Scas<Size16, Counter32>)));
        table.Add(Mnemonic.Scasd, (in Instruction i) => Select(i, P(&Scas<Size32, Counter16>), P(&Scas<Size32, Counter32>)));
    }

    private static nint Select(in Instruction i, nint a16, nint a32) => StringAddressBits(i) == 16 ? a16 : a32;

    /// <summary>Signed step for one element: DF selects the direction.</summary>
    public static uint Step<TSize>(X86Cpu cpu) where TSize : IOpSize =>
        (cpu.EflagsRaw & Flags.DF) != 0 ? (uint)-(TSize.Bits / 8) : (uint)(TSize.Bits / 8);

    public static void Advance<TCounter>(X86Cpu cpu, int reg, uint step) where TCounter : ICounter
    {
        if (TCounter.Mask == 0xFFFF)
            cpu.SetReg16(reg, cpu.Reg(reg) + step);
        else
            cpu.Reg(reg) += step;
    }

    /// <summary>
    /// Runs <paramref name="element"/> once, or CX/ECX times under a REP prefix; returns early
    /// (leaving EIP on the instruction) after a chunk so the run loop can take interrupts.
    /// </summary>
    public static void Repeat<TCounter>(X86Cpu cpu, DecodedOp* op, delegate*<X86Cpu, DecodedOp*, bool> element) where TCounter : ICounter
    {
        if (op->Rep == DecodedOp.RepNone)
        {
            element(cpu, op);
            return;
        }
        for (var n = 0; n < Chunk; n++)
        {
            if (TCounter.Get(cpu) == 0)
                return;
            var continueRep = element(cpu, op);
            TCounter.Set(cpu, TCounter.Get(cpu) - 1);
            if (!continueRep || TCounter.Get(cpu) == 0)
                return;
        }
        cpu.Eip = op->Eip;
        cpu.StopBlock = true;
    }

    private static void Movs<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter =>
        Repeat<TCounter>(cpu, op, &MovsElement<TSize, TCounter>);

    private static bool MovsElement<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter
    {
        var source = cpu.Linear(op->Seg, cpu.Reg(Gpr32.Esi) & TCounter.Mask, TSize.Bits / 8, false);
        var value = TSize.LoadLinear(cpu, source);
        var target = cpu.Linear(SegmentRegister.ES, cpu.Reg(Gpr32.Edi) & TCounter.Mask, TSize.Bits / 8, true);
        TSize.StoreLinear(cpu, target, value);
        var step = Step<TSize>(cpu);
        Advance<TCounter>(cpu, Gpr32.Esi, step);
        Advance<TCounter>(cpu, Gpr32.Edi, step);
        return true;
    }

    private static void Stos<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter =>
        Repeat<TCounter>(cpu, op, &StosElement<TSize, TCounter>);

    private static bool StosElement<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter
    {
        var target = cpu.Linear(SegmentRegister.ES, cpu.Reg(Gpr32.Edi) & TCounter.Mask, TSize.Bits / 8, true);
        TSize.StoreLinear(cpu, target, TSize.GetReg(cpu, Gpr32.Eax));
        Advance<TCounter>(cpu, Gpr32.Edi, Step<TSize>(cpu));
        return true;
    }

    private static void Lods<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter =>
        Repeat<TCounter>(cpu, op, &LodsElement<TSize, TCounter>);

    private static bool LodsElement<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter
    {
        var source = cpu.Linear(op->Seg, cpu.Reg(Gpr32.Esi) & TCounter.Mask, TSize.Bits / 8, false);
        TSize.SetReg(cpu, Gpr32.Eax, TSize.LoadLinear(cpu, source));
        Advance<TCounter>(cpu, Gpr32.Esi, Step<TSize>(cpu));
        return true;
    }

    private static void Cmps<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter =>
        Repeat<TCounter>(cpu, op, &CmpsElement<TSize, TCounter>);

    private static bool CmpsElement<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter
    {
        var source = TSize.LoadLinear(cpu, cpu.Linear(op->Seg, cpu.Reg(Gpr32.Esi) & TCounter.Mask, TSize.Bits / 8, false));
        var target = TSize.LoadLinear(cpu, cpu.Linear(SegmentRegister.ES, cpu.Reg(Gpr32.Edi) & TCounter.Mask, TSize.Bits / 8, false));
        CmpOp.Apply<TSize>(cpu, source, target);
        var step = Step<TSize>(cpu);
        Advance<TCounter>(cpu, Gpr32.Esi, step);
        Advance<TCounter>(cpu, Gpr32.Edi, step);
        return (source == target) == (op->Rep == DecodedOp.RepE);
    }

    private static void Scas<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter =>
        Repeat<TCounter>(cpu, op, &ScasElement<TSize, TCounter>);

    private static bool ScasElement<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter
    {
        var target = TSize.LoadLinear(cpu, cpu.Linear(SegmentRegister.ES, cpu.Reg(Gpr32.Edi) & TCounter.Mask, TSize.Bits / 8, false));
        var accumulator = TSize.GetReg(cpu, Gpr32.Eax);
        CmpOp.Apply<TSize>(cpu, accumulator, target);
        Advance<TCounter>(cpu, Gpr32.Edi, Step<TSize>(cpu));
        return (accumulator == target) == (op->Rep == DecodedOp.RepE);
    }
}
