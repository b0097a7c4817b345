using System.Runtime.CompilerServices;

namespace Qmp.Cpu.X86;

public sealed unsafe partial class X86Cpu
{
    /// <summary>The effective address (offset in the segment) of the op's memory operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint EffectiveAddress(DecodedOp* op)
    {
        var ea = (uint)op->Disp + Reg(op->Base) + (Reg(op->Index) << op->Scale);
        return op->Addr16 != 0 ? ea & 0xFFFF : ea;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte GetReg8(int index) => index < 4 ? (byte)Reg(index) : (byte)(Reg(index - 4) >> 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetReg8(int index, uint value)
    {
        if (index < 4)
            Reg(index) = (Reg(index) & 0xFFFFFF00u) | (value & 0xFF);
        else
            Reg(index - 4) = (Reg(index - 4) & 0xFFFF00FFu) | ((value & 0xFF) << 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetReg16(int index, uint value) => Reg(index) = (Reg(index) & 0xFFFF0000u) | (value & 0xFFFF);

    internal byte Read8(int seg, uint offset) => ReadLinear8(Linear(seg, offset, 1, false));

    internal ushort Read16(int seg, uint offset) => ReadLinear16(Linear(seg, offset, 2, false));

    internal uint Read32(int seg, uint offset) => ReadLinear32(Linear(seg, offset, 4, false));

    internal void Write8(int seg, uint offset, uint value) => WriteLinear8(Linear(seg, offset, 1, true), (byte)value);

    internal void Write16(int seg, uint offset, uint value) => WriteLinear16(Linear(seg, offset, 2, true), (ushort)value);

    internal void Write32(int seg, uint offset, uint value) => WriteLinear32(Linear(seg, offset, 4, true), value);

    /// <summary>Current stack pointer width: SS.B selects ESP or SP.</summary>
    internal bool Stack32 => Ss.Is32;

    internal void Push32(uint value)
    {
        var sp = (Stack32 ? Reg(Gpr32.Esp) : Reg(Gpr32.Esp) & 0xFFFF) - 4;
        if (!Stack32)
            sp &= 0xFFFF;
        Write32(SegmentRegister.SS, sp, value);
        SetStackPointer(sp);
    }

    internal void Push16(uint value)
    {
        var sp = (Stack32 ? Reg(Gpr32.Esp) : Reg(Gpr32.Esp) & 0xFFFF) - 2;
        if (!Stack32)
            sp &= 0xFFFF;
        Write16(SegmentRegister.SS, sp, value);
        SetStackPointer(sp);
    }

    internal uint Pop32()
    {
        var sp = StackPointer;
        var value = Read32(SegmentRegister.SS, sp);
        SetStackPointer(sp + 4);
        return value;
    }

    internal uint Pop16()
    {
        var sp = StackPointer;
        var value = Read16(SegmentRegister.SS, sp);
        SetStackPointer(sp + 2);
        return value;
    }

    /// <summary>Reads the stack at SP + <paramref name="offset"/> without popping.</summary>
    internal uint PeekStack(uint offset, bool size32)
    {
        var address = StackPointer + offset;
        if (!Stack32)
            address &= 0xFFFF;
        return size32 ? Read32(SegmentRegister.SS, address) : Read16(SegmentRegister.SS, address);
    }

    internal uint StackPointer => Stack32 ? Reg(Gpr32.Esp) : Reg(Gpr32.Esp) & 0xFFFF;

    internal void SetStackPointer(uint sp)
    {
        if (Stack32)
            Reg(Gpr32.Esp) = sp;
        else
            SetReg16(Gpr32.Esp, sp);
    }
}
