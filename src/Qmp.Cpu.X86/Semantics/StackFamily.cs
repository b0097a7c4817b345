using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>PUSH, POP, PUSHA, POPA, PUSHF, POPF, ENTER, LEAVE.</summary>
internal static unsafe class StackFamily
{
    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Push, SelectPush);
        table.Add(Mnemonic.Pop, SelectPop);
        table.Add(Mnemonic.Pusha, (in Instruction i) => P(&Pusha<Size16>));
        table.Add(Mnemonic.Pushad, (in Instruction i) => P(&Pusha<Size32>));
        table.Add(Mnemonic.Popa, (in Instruction i) => P(&Popa<Size16>));
        table.Add(Mnemonic.Popad, (in Instruction i) => P(&Popa<Size32>));
        table.Add(Mnemonic.Pushf, (in Instruction i) => P(&Pushf<Size16>));
        table.Add(Mnemonic.Pushfd, (in Instruction i) => P(&Pushf<Size32>));
        table.Add(Mnemonic.Popf, (in Instruction i) => P(&Popf<Size16>));
        table.Add(Mnemonic.Popfd, (in Instruction i) => P(&Popf<Size32>));
        table.Add(Mnemonic.Enter, (in Instruction i) => i.Code == Code.Enterw_imm16_imm8 ? P(&Enter<Size16>) : P(&Enter<Size32>));
        table.Add(Mnemonic.Leave, (in Instruction i) => i.Code == Code.Leavew ? P(&Leave<Size16>) : P(&Leave<Size32>));
        // POPF may set IF or TF, which the run loop must see before the next instruction.
        table.EndBlockAfter(Mnemonic.Popf, Mnemonic.Popfd);
    }

    private static int StackBits(in Instruction i) => i.StackPointerIncrement is 2 or -2 ? 16 : 32;

    private static nint SelectPush(in Instruction i)
    {
        if (i.Op0Kind == OpKind.Register && i.Op0Register.IsSegmentRegister())
            return StackBits(i) == 16 ? P(&PushSreg<Size16>) : P(&PushSreg<Size32>);
        var bits = StackBits(i);
        if (i.Op0Kind == OpKind.Register)
            return bits == 16 ? P(&Push<Size16, RegLocation>) : P(&Push<Size32, RegLocation>);
        if (i.Op0Kind == OpKind.Memory)
            return bits == 16 ? P(&Push<Size16, MemLocation>) : P(&Push<Size32, MemLocation>);
        return bits == 16 ? P(&PushImm<Size16>) : P(&PushImm<Size32>);
    }

    private static nint SelectPop(in Instruction i)
    {
        if (i.Op0Kind == OpKind.Register && i.Op0Register.IsSegmentRegister())
            return SystemFamily.SelectPopSreg(i);
        var bits = StackBits(i);
        if (i.Op0Kind == OpKind.Register)
            return bits == 16 ? P(&PopReg<Size16>) : P(&PopReg<Size32>);
        return bits == 16 ? P(&PopMem<Size16>) : P(&PopMem<Size32>);
    }

    public static void Push<TSize>(X86Cpu cpu, uint value) where TSize : IOpSize
    {
        if (TSize.Bits == 16)
            cpu.Push16(value);
        else
            cpu.Push32(value);
    }

    public static uint Pop<TSize>(X86Cpu cpu) where TSize : IOpSize => TSize.Bits == 16 ? cpu.Pop16() : cpu.Pop32();

    private static void Push<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation =>
        Push<TSize>(cpu, TLoc.Read<TSize>(cpu, op, false, out _));

    private static void PushImm<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize => Push<TSize>(cpu, op->Imm & TSize.Mask);

    // A 32-bit push of a segment register writes only the selector word (recent Intel processors).
    private static void PushSreg<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var selector = cpu.Seg(op->R0).Selector;
        if (TSize.Bits == 16)
        {
            cpu.Push16(selector);
            return;
        }
        var sp = (cpu.StackPointer - 4) & (cpu.Stack32 ? 0xFFFFFFFFu : 0xFFFFu);
        cpu.Write16(SegmentRegister.SS, sp, selector);
        cpu.SetStackPointer(sp);
    }

    private static void PopReg<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var value = Pop<TSize>(cpu);
        TSize.SetReg(cpu, op->R0, value);
    }

    // The destination address is computed after ESP was incremented (SDM: POP).
    private static void PopMem<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var saved = cpu.Reg(Gpr32.Esp);
        var value = Pop<TSize>(cpu);
        try
        {
            MemLocation.Write<TSize>(cpu, op, MemLocation.Resolve<TSize>(cpu, op), value);
        }
        catch (GuestFault)
        {
            cpu.Reg(Gpr32.Esp) = saved;
            throw;
        }
    }

    private static void Pusha<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var saved = cpu.Reg(Gpr32.Esp);
        try
        {
            for (var r = 0; r < 8; r++)
                Push<TSize>(cpu, (r == Gpr32.Esp ? saved : cpu.Reg(r)) & TSize.Mask);
        }
        catch (GuestFault)
        {
            cpu.Reg(Gpr32.Esp) = saved;
            throw;
        }
    }

    private static void Popa<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var size = (uint)TSize.Bits / 8;
        Span<uint> values = stackalloc uint[8];
        for (var n = 0; n < 8; n++)
            values[7 - n] = cpu.PeekStack(size * (uint)n, TSize.Bits == 32);
        for (var r = 0; r < 8; r++)
        {
            if (r != Gpr32.Esp)
                TSize.SetReg(cpu, r, values[r]);
        }
        cpu.SetStackPointer(cpu.StackPointer + size * 8);
    }

    private static void Pushf<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        if (cpu.Vm86 && cpu.Iopl < 3)
            throw X86Cpu.Fault(CpuException.GP, 0);
        Push<TSize>(cpu, cpu.Eflags & ~(Flags.VM | Flags.RF) & TSize.Mask);
    }

    private static void Popf<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        if (cpu.Vm86 && cpu.Iopl < 3)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var value = Pop<TSize>(cpu);
        var changeable = Flags.Arith | Flags.TF | Flags.DF | Flags.NT | Flags.AC | Flags.ID;
        if (!cpu.ProtectedMode || cpu.Cpl == 0)
            changeable |= Flags.IoplMask | Flags.IF;
        else if (cpu.Cpl <= cpu.Iopl)
            changeable |= Flags.IF;
        if (cpu.Vm86)
            changeable = (changeable | Flags.IF) & ~Flags.IoplMask;
        changeable &= TSize.Mask;
        var old = cpu.Eflags & ~Flags.RF;
        cpu.SetEflags((old & ~changeable) | (value & changeable));
    }

    private static void Enter<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var allocation = op->Imm & 0xFFFF;
        var level = op->Imm2 & 31;
        var savedEsp = cpu.Reg(Gpr32.Esp);
        var savedEbp = cpu.Reg(Gpr32.Ebp);
        try
        {
            Push<TSize>(cpu, savedEbp & TSize.Mask);
            var frame = cpu.StackPointer;
            var size = (uint)TSize.Bits / 8;
            if (level > 0)
            {
                var bp = cpu.Stack32 ? savedEbp : savedEbp & 0xFFFF;
                for (var n = 1; n < level; n++)
                {
                    bp -= size;
                    if (!cpu.Stack32)
                        bp &= 0xFFFF;
                    var value = TSize.Bits == 16 ? cpu.Read16(SegmentRegister.SS, bp) : cpu.Read32(SegmentRegister.SS, bp);
                    Push<TSize>(cpu, value);
                }
                Push<TSize>(cpu, frame & TSize.Mask);
            }
            var sp = cpu.StackPointer - allocation;
            // The final stack pointer must be writable (SDM: ENTER checks it before updating).
            cpu.Linear(SegmentRegister.SS, cpu.Stack32 ? sp : sp & 0xFFFF, 1, true);
            TSize.SetReg(cpu, Gpr32.Ebp, frame);
            cpu.SetStackPointer(sp & (cpu.Stack32 ? 0xFFFFFFFFu : 0xFFFFu));
        }
        catch (GuestFault)
        {
            cpu.Reg(Gpr32.Esp) = savedEsp;
            cpu.Reg(Gpr32.Ebp) = savedEbp;
            throw;
        }
    }

    private static void Leave<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var bp = cpu.Stack32 ? cpu.Reg(Gpr32.Ebp) : cpu.Reg(Gpr32.Ebp) & 0xFFFF;
        var value = TSize.Bits == 16 ? cpu.Read16(SegmentRegister.SS, bp) : cpu.Read32(SegmentRegister.SS, bp);
        cpu.SetStackPointer(bp + (uint)TSize.Bits / 8);
        TSize.SetReg(cpu, Gpr32.Ebp, value);
    }
}
