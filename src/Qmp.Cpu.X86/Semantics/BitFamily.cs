using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// BT BTS BTR BTC, BSF BSR, XADD, CMPXCHG, CMPXCHG8B. Undefined flags of BT* and BSF/BSR are left
/// unchanged; BSF/BSR of zero leave the destination unchanged, as Intel and AMD processors do.
/// </summary>
internal static unsafe class BitFamily
{
    private const byte Test = 0, Set = 1, Reset = 2, Complement = 3;

    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Bt, SelectBitTest);
        table.Add(Mnemonic.Bts, SelectBitTest);
        table.Add(Mnemonic.Btr, SelectBitTest);
        table.Add(Mnemonic.Btc, SelectBitTest);
        table.Add(Mnemonic.Bsf, (in Instruction i) => SelectScan(i));
        table.Add(Mnemonic.Bsr, (in Instruction i) => SelectScan(i));
        table.Add(Mnemonic.Xadd, (in Instruction i) => AluFamily.ByLocation(i, P(&Xadd<Size8, RegLocation>), P(&Xadd<Size16, RegLocation>), P(&Xadd<Size32, RegLocation>),
            P(&Xadd<Size8, MemLocation>), P(&Xadd<Size16, MemLocation>), P(&Xadd<Size32, MemLocation>)));
        table.Add(Mnemonic.Cmpxchg, (in Instruction i) => AluFamily.ByLocation(i, P(&Cmpxchg<Size8, RegLocation>), P(&Cmpxchg<Size16, RegLocation>), P(&Cmpxchg<Size32, RegLocation>),
            P(&Cmpxchg<Size8, MemLocation>), P(&Cmpxchg<Size16, MemLocation>), P(&Cmpxchg<Size32, MemLocation>)));
        table.Add(Mnemonic.Cmpxchg8b, (in Instruction i) => P(&Cmpxchg8b));
    }

    /// <summary>The BT* operation kept in the op's Aux byte.</summary>
    public static byte KindOf(Mnemonic m) => m switch
    {
        Mnemonic.Bts => Set,
        Mnemonic.Btr => Reset,
        Mnemonic.Btc => Complement,
        Mnemonic.Bsr => 1,
        _ => Test,
    };

    private static nint SelectBitTest(in Instruction i)
    {
        var imm = Imm(i, 1);
        return (Bits0(i), Reg0(i), imm) switch
        {
            (16, true, true) => P(&BitReg<Size16, ImmSource>),
            (16, true, false) => P(&BitReg<Size16, RegSource>),
            (32, true, true) => P(&BitReg<Size32, ImmSource>),
            (32, true, false) => P(&BitReg<Size32, RegSource>),
            (16, false, true) => P(&BitMem<Size16, ImmSource>),
            (16, false, false) => P(&BitMem<Size16, RegSource>),
            (32, false, true) => P(&BitMem<Size32, ImmSource>),
            _ => P(&BitMem<Size32, RegSource>),
        };
    }

    private static nint SelectScan(in Instruction i) => (Bits0(i), Mem(i, 1)) switch
    {
        (16, false) => P(&Scan<Size16, RegSource>),
        (16, true) => P(&Scan<Size16, MemSource>),
        (32, false) => P(&Scan<Size32, RegSource>),
        _ => P(&Scan<Size32, MemSource>),
    };

    private static uint Modify(int kind, uint value, uint bit) => kind switch
    {
        Set => value | bit,
        Reset => value & ~bit,
        Complement => value ^ bit,
        _ => value,
    };

    private static void BitReg<TSize, TOffset>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TOffset : ISource
    {
        var offset = TOffset.Read<TSize>(cpu, op) & (uint)(TSize.Bits - 1);
        var value = TSize.GetReg(cpu, op->R0);
        var bit = 1u << (int)offset;
        cpu.SetStatusFlags(Flags.CF, (value & bit) != 0 ? Flags.CF : 0);
        if (op->Aux != Test)
            TSize.SetReg(cpu, op->R0, Modify(op->Aux, value, bit));
    }

    // A register bit offset addresses a bit string: it may reach outside the operand (signed).
    private static void BitMem<TSize, TOffset>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TOffset : ISource
    {
        var raw = TOffset.Read<TSize>(cpu, op);
        var ea = cpu.EffectiveAddress(op);
        uint offset;
        if (typeof(TOffset) == typeof(RegSource))
        {
            var signed = TSize.Bits == 16 ? (short)raw : (int)raw;
            var bytes = (signed >> (TSize.Bits == 16 ? 4 : 5)) * (TSize.Bits / 8);
            ea += (uint)bytes;
            if (op->Addr16 != 0)
                ea &= 0xFFFF;
            offset = raw & (uint)(TSize.Bits - 1);
        }
        else
            offset = raw & (uint)(TSize.Bits - 1);
        var linear = cpu.Linear(op->Seg, ea, TSize.Bits / 8, op->Aux != Test);
        if (op->Aux != Test)
            cpu.PrepareWrite(linear, TSize.Bits / 8);
        var value = TSize.LoadLinear(cpu, linear);
        var bit = 1u << (int)offset;
        if (op->Aux != Test)
            TSize.StoreLinear(cpu, linear, Modify(op->Aux, value, bit));
        cpu.SetStatusFlags(Flags.CF, (value & bit) != 0 ? Flags.CF : 0);
    }

    private static void Scan<TSize, TSrc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TSrc : ISource
    {
        var value = TSrc.Read<TSize>(cpu, op);
        if (value == 0)
        {
            cpu.SetStatusFlags(Flags.ZF, Flags.ZF);
            return;
        }
        var index = op->Aux == 0 ? System.Numerics.BitOperations.TrailingZeroCount(value) : 31 - System.Numerics.BitOperations.LeadingZeroCount(value);
        TSize.SetReg(cpu, op->R0, (uint)index);
        cpu.SetStatusFlags(Flags.ZF, 0);
    }

    private static void Xadd<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation
    {
        var dst = TLoc.Read<TSize>(cpu, op, true, out var handle);
        var src = TSize.GetReg(cpu, op->R1);
        var sum = AddOp.Apply<TSize>(cpu, dst, src);
        TSize.SetReg(cpu, op->R1, dst);
        TLoc.Write<TSize>(cpu, op, handle, sum);
    }

    private static void Cmpxchg<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation
    {
        var dst = TLoc.Read<TSize>(cpu, op, true, out var handle);
        var accumulator = TSize.GetReg(cpu, Gpr32.Eax);
        CmpOp.Apply<TSize>(cpu, accumulator, dst);
        if (accumulator == dst)
            TLoc.Write<TSize>(cpu, op, handle, TSize.GetReg(cpu, op->R1));
        else
        {
            // The processor always writes the destination back (a locked read-modify-write cycle).
            TLoc.Write<TSize>(cpu, op, handle, dst);
            TSize.SetReg(cpu, Gpr32.Eax, dst);
        }
    }

    private static void Cmpxchg8b(X86Cpu cpu, DecodedOp* op)
    {
        var ea = cpu.EffectiveAddress(op);
        var linear = cpu.Linear(op->Seg, ea, 8, true);
        var low = cpu.ReadLinear32(linear);
        var high = cpu.ReadLinear32(linear + 4);
        cpu.ProbeWrite(linear, 8);
        if (low == cpu.Reg(Gpr32.Eax) && high == cpu.Reg(Gpr32.Edx))
        {
            cpu.WriteLinear32(linear, cpu.Reg(Gpr32.Ebx));
            cpu.WriteLinear32(linear + 4, cpu.Reg(Gpr32.Ecx));
            cpu.SetStatusFlags(Flags.ZF, Flags.ZF);
        }
        else
        {
            cpu.WriteLinear32(linear, low);
            cpu.WriteLinear32(linear + 4, high);
            cpu.Reg(Gpr32.Eax) = low;
            cpu.Reg(Gpr32.Edx) = high;
            cpu.SetStatusFlags(Flags.ZF, 0);
        }
    }
}
