using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>ADD OR ADC SBB AND SUB XOR CMP TEST, INC DEC NEG NOT.</summary>
internal static unsafe class AluFamily
{
    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Add, Binary<AddOp>);
        table.Add(Mnemonic.Or, Binary<OrOp>);
        table.Add(Mnemonic.Adc, Binary<AdcOp>);
        table.Add(Mnemonic.Sbb, Binary<SbbOp>);
        table.Add(Mnemonic.And, Binary<AndOp>);
        table.Add(Mnemonic.Sub, Binary<SubOp>);
        table.Add(Mnemonic.Xor, Binary<XorOp>);
        table.Add(Mnemonic.Cmp, Binary<CmpOp>);
        table.Add(Mnemonic.Test, Binary<TestOp>);
        table.Add(Mnemonic.Inc, (in Instruction i) => ByLocation(i, P(&Inc<Size8, RegLocation>), P(&Inc<Size16, RegLocation>), P(&Inc<Size32, RegLocation>),
            P(&Inc<Size8, MemLocation>), P(&Inc<Size16, MemLocation>), P(&Inc<Size32, MemLocation>)));
        table.Add(Mnemonic.Dec, (in Instruction i) => ByLocation(i, P(&Dec<Size8, RegLocation>), P(&Dec<Size16, RegLocation>), P(&Dec<Size32, RegLocation>),
            P(&Dec<Size8, MemLocation>), P(&Dec<Size16, MemLocation>), P(&Dec<Size32, MemLocation>)));
        table.Add(Mnemonic.Neg, (in Instruction i) => ByLocation(i, P(&Neg<Size8, RegLocation>), P(&Neg<Size16, RegLocation>), P(&Neg<Size32, RegLocation>),
            P(&Neg<Size8, MemLocation>), P(&Neg<Size16, MemLocation>), P(&Neg<Size32, MemLocation>)));
        table.Add(Mnemonic.Not, (in Instruction i) => ByLocation(i, P(&Not<Size8, RegLocation>), P(&Not<Size16, RegLocation>), P(&Not<Size32, RegLocation>),
            P(&Not<Size8, MemLocation>), P(&Not<Size16, MemLocation>), P(&Not<Size32, MemLocation>)));
    }

    public static nint ByLocation(in Instruction i, nint r8, nint r16, nint r32, nint m8, nint m16, nint m32) =>
        Reg0(i) ? BySize(Bits0(i), r8, r16, r32) : BySize(Bits0(i), m8, m16, m32);

    private static nint Binary<TOp>(in Instruction i) where TOp : IAluOp
    {
        var bits = Bits0(i);
        if (Reg0(i))
        {
            if (i.Op1Kind == OpKind.Register)
                return BySize(bits, P(&Binary<Size8, TOp, RegLocation, RegSource>), P(&Binary<Size16, TOp, RegLocation, RegSource>), P(&Binary<Size32, TOp, RegLocation, RegSource>));
            if (i.Op1Kind == OpKind.Memory)
                return BySize(bits, P(&Binary<Size8, TOp, RegLocation, MemSource>), P(&Binary<Size16, TOp, RegLocation, MemSource>), P(&Binary<Size32, TOp, RegLocation, MemSource>));
            return BySize(bits, P(&Binary<Size8, TOp, RegLocation, ImmSource>), P(&Binary<Size16, TOp, RegLocation, ImmSource>), P(&Binary<Size32, TOp, RegLocation, ImmSource>));
        }
        if (i.Op1Kind == OpKind.Register)
            return BySize(bits, P(&Binary<Size8, TOp, MemLocation, RegSource>), P(&Binary<Size16, TOp, MemLocation, RegSource>), P(&Binary<Size32, TOp, MemLocation, RegSource>));
        return BySize(bits, P(&Binary<Size8, TOp, MemLocation, ImmSource>), P(&Binary<Size16, TOp, MemLocation, ImmSource>), P(&Binary<Size32, TOp, MemLocation, ImmSource>));
    }

    private static void Binary<TSize, TOp, TDst, TSrc>(X86Cpu cpu, DecodedOp* op)
        where TSize : IOpSize where TOp : IAluOp where TDst : ILocation where TSrc : ISource
    {
        var src = TSrc.Read<TSize>(cpu, op);
        var dst = TDst.Read<TSize>(cpu, op, TOp.WritesResult, out var handle);
        var result = TOp.Apply<TSize>(cpu, dst, src);
        if (TOp.WritesResult)
            TDst.Write<TSize>(cpu, op, handle, result);
    }

    private static void Inc<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation
    {
        var dst = TLoc.Read<TSize>(cpu, op, true, out var handle);
        var carry = cpu.CF ? Flags.CF : 0;
        var r = (dst + 1) & TSize.Mask;
        TLoc.Write<TSize>(cpu, op, handle, r);
        cpu.SetLazy(LazyOp.Inc, TSize.Bits, r, dst, 1);
        cpu.LazyCarryIn = carry;
    }

    private static void Dec<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation
    {
        var dst = TLoc.Read<TSize>(cpu, op, true, out var handle);
        var carry = cpu.CF ? Flags.CF : 0;
        var r = (dst - 1) & TSize.Mask;
        TLoc.Write<TSize>(cpu, op, handle, r);
        cpu.SetLazy(LazyOp.Dec, TSize.Bits, r, dst, 1);
        cpu.LazyCarryIn = carry;
    }

    private static void Neg<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation
    {
        var dst = TLoc.Read<TSize>(cpu, op, true, out var handle);
        var r = (0 - dst) & TSize.Mask;
        TLoc.Write<TSize>(cpu, op, handle, r);
        cpu.SetLazy(LazyOp.Sub, TSize.Bits, r, 0, dst);
    }

    private static void Not<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation
    {
        var dst = TLoc.Read<TSize>(cpu, op, true, out var handle);
        TLoc.Write<TSize>(cpu, op, handle, ~dst & TSize.Mask);
    }
}
