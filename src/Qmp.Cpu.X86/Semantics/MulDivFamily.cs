using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// MUL, IMUL (one, two and three operands), DIV, IDIV. After multiplies CF and OF are defined;
/// SF, ZF and PF follow the low half of the product and AF is cleared (one documented choice
/// for the undefined flags). Divides leave the flags unchanged and raise #DE on a zero divisor
/// or a quotient that does not fit.
/// </summary>
internal static unsafe class MulDivFamily
{
    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Mul, (in Instruction i) => Unary(i, P(&Mul<Size8, RegSource0>), P(&Mul<Size16, RegSource0>), P(&Mul<Size32, RegSource0>),
            P(&Mul<Size8, MemSource>), P(&Mul<Size16, MemSource>), P(&Mul<Size32, MemSource>)));
        table.Add(Mnemonic.Div, (in Instruction i) => Unary(i, P(&Div<Size8, RegSource0>), P(&Div<Size16, RegSource0>), P(&Div<Size32, RegSource0>),
            P(&Div<Size8, MemSource>), P(&Div<Size16, MemSource>), P(&Div<Size32, MemSource>)));
        table.Add(Mnemonic.Idiv, (in Instruction i) => Unary(i, P(&Idiv<Size8, RegSource0>), P(&Idiv<Size16, RegSource0>), P(&Idiv<Size32, RegSource0>),
            P(&Idiv<Size8, MemSource>), P(&Idiv<Size16, MemSource>), P(&Idiv<Size32, MemSource>)));
        table.Add(Mnemonic.Imul, SelectImul);
    }

    private static nint Unary(in Instruction i, nint r8, nint r16, nint r32, nint m8, nint m16, nint m32) =>
        AluFamily.ByLocation(i, r8, r16, r32, m8, m16, m32);

    private static nint SelectImul(in Instruction i)
    {
        if (i.OpCount == 1)
            return Unary(i, P(&Imul1<Size8, RegSource0>), P(&Imul1<Size16, RegSource0>), P(&Imul1<Size32, RegSource0>),
                P(&Imul1<Size8, MemSource>), P(&Imul1<Size16, MemSource>), P(&Imul1<Size32, MemSource>));
        var mem = Mem(i, 1);
        var three = i.OpCount == 3;
        return (Bits0(i), mem, three) switch
        {
            (16, false, false) => P(&Imul2<Size16, RegSource, RegSource0>),
            (16, true, false) => P(&Imul2<Size16, MemSource, RegSource0>),
            (32, false, false) => P(&Imul2<Size32, RegSource, RegSource0>),
            (32, true, false) => P(&Imul2<Size32, MemSource, RegSource0>),
            (16, false, true) => P(&Imul2<Size16, RegSource, ImmSource>),
            (16, true, true) => P(&Imul2<Size16, MemSource, ImmSource>),
            (32, false, true) => P(&Imul2<Size32, RegSource, ImmSource>),
            _ => P(&Imul2<Size32, MemSource, ImmSource>),
        };
    }

    private static void SetMulFlags<TSize>(X86Cpu cpu, uint low, bool overflow) where TSize : IOpSize
    {
        low &= TSize.Mask;
        var flags = Flags.Parity(low) | (low == 0 ? Flags.ZF : 0) | ((low & TSize.SignBit) != 0 ? Flags.SF : 0)
            | (overflow ? Flags.CF | Flags.OF : 0);
        cpu.SetStatusFlags(Flags.Arith, flags);
    }

    private static void Mul<TSize, TSrc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TSrc : ISource
    {
        var src = TSrc.Read<TSize>(cpu, op);
        ulong product = (ulong)(TSize.GetReg(cpu, Gpr32.Eax)) * src;
        var low = (uint)product & TSize.Mask;
        var high = (uint)(product >> TSize.Bits) & TSize.Mask;
        StoreWide<TSize>(cpu, low, high);
        SetMulFlags<TSize>(cpu, low, high != 0);
    }

    private static void Imul1<TSize, TSrc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TSrc : ISource
    {
        var src = SignExtend<TSize>(TSrc.Read<TSize>(cpu, op));
        var product = SignExtend<TSize>(TSize.GetReg(cpu, Gpr32.Eax)) * src;
        var low = (uint)product & TSize.Mask;
        var high = (uint)(product >> TSize.Bits) & TSize.Mask;
        StoreWide<TSize>(cpu, low, high);
        SetMulFlags<TSize>(cpu, low, product != SignExtend<TSize>(low));
    }

    // IMUL r, r/m (second source is the destination register) and IMUL r, r/m, imm.
    private static void Imul2<TSize, TSrc, TOther>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TSrc : ISource where TOther : ISource
    {
        var a = SignExtend<TSize>(TSrc.Read<TSize>(cpu, op));
        var b = SignExtend<TSize>(TOther.Read<TSize>(cpu, op));
        var product = a * b;
        var low = (uint)product & TSize.Mask;
        TSize.SetReg(cpu, op->R0, low);
        SetMulFlags<TSize>(cpu, low, product != SignExtend<TSize>(low));
    }

    private static void StoreWide<TSize>(X86Cpu cpu, uint low, uint high) where TSize : IOpSize
    {
        if (TSize.Bits == 8)
            cpu.SetReg16(Gpr32.Eax, (high << 8) | low);
        else
        {
            TSize.SetReg(cpu, Gpr32.Eax, low);
            TSize.SetReg(cpu, Gpr32.Edx, high);
        }
    }

    private static ulong Dividend<TSize>(X86Cpu cpu) where TSize : IOpSize =>
        TSize.Bits == 8
            ? cpu.Reg(Gpr32.Eax) & 0xFFFF
            : ((ulong)TSize.GetReg(cpu, Gpr32.Edx) << TSize.Bits) | TSize.GetReg(cpu, Gpr32.Eax);

    private static void Div<TSize, TSrc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TSrc : ISource
    {
        ulong divisor = TSrc.Read<TSize>(cpu, op);
        if (divisor == 0)
            throw X86Cpu.Fault(CpuException.DE);
        var dividend = Dividend<TSize>(cpu);
        var quotient = dividend / divisor;
        if (quotient > TSize.Mask)
            throw X86Cpu.Fault(CpuException.DE);
        StoreDivision<TSize>(cpu, (uint)quotient, (uint)(dividend % divisor));
    }

    private static void Idiv<TSize, TSrc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TSrc : ISource
    {
        var divisor = SignExtend<TSize>(TSrc.Read<TSize>(cpu, op));
        if (divisor == 0)
            throw X86Cpu.Fault(CpuException.DE);
        var raw = Dividend<TSize>(cpu);
        var dividend = TSize.Bits == 32 ? (long)raw : TSize.Bits == 16 ? (int)(uint)raw : (short)(ushort)raw;
        // long.MinValue / -1 cannot happen: a 64-bit dividend comes only from EDX:EAX.
        var quotient = dividend / divisor;
        var max = (long)(TSize.SignBit - 1);
        if (quotient > max || quotient < -max - 1)
            throw X86Cpu.Fault(CpuException.DE);
        StoreDivision<TSize>(cpu, (uint)quotient & TSize.Mask, (uint)(dividend % divisor) & TSize.Mask);
    }

    private static void StoreDivision<TSize>(X86Cpu cpu, uint quotient, uint remainder) where TSize : IOpSize
    {
        if (TSize.Bits == 8)
            cpu.SetReg16(Gpr32.Eax, (remainder << 8) | quotient);
        else
        {
            TSize.SetReg(cpu, Gpr32.Eax, quotient);
            TSize.SetReg(cpu, Gpr32.Edx, remainder);
        }
    }

    private static long SignExtend<TSize>(uint value) where TSize : IOpSize =>
        TSize.Bits switch
        {
            8 => (sbyte)value,
            16 => (short)value,
            _ => (int)value,
        };
}
