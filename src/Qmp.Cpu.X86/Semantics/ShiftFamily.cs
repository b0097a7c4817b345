using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// ROL ROR RCL RCR SHL SAL SHR SAR and SHLD SHRD. Flags are computed eagerly (shifts are rarer
/// than arithmetic). Where the manuals leave a flag undefined we follow one choice everywhere:
/// AF is cleared by shifts; OF of multi-bit shifts and rotates uses the one-bit formula.
/// </summary>
internal static unsafe class ShiftFamily
{
    private const byte Rol = 0, Ror = 1, Rcl = 2, Rcr = 3, Shl = 4, Shr = 5, Sar = 7;

    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Rol, Select);
        table.Add(Mnemonic.Ror, Select);
        table.Add(Mnemonic.Rcl, Select);
        table.Add(Mnemonic.Rcr, Select);
        table.Add(Mnemonic.Shl, Select);
        table.Add(Mnemonic.Sal, Select);
        table.Add(Mnemonic.Shr, Select);
        table.Add(Mnemonic.Sar, Select);
        table.Add(Mnemonic.Shld, SelectDouble);
        table.Add(Mnemonic.Shrd, SelectDouble);
    }

    // The kind travels in the op's Aux byte; the count is the immediate or CL.
    private static nint Select(in Instruction i)
    {
        var cl = i.Op1Kind == OpKind.Register;
        return cl
            ? AluFamily.ByLocation(i, P(&Shift<Size8, RegLocation, RegCount>), P(&Shift<Size16, RegLocation, RegCount>), P(&Shift<Size32, RegLocation, RegCount>),
                P(&Shift<Size8, MemLocation, RegCount>), P(&Shift<Size16, MemLocation, RegCount>), P(&Shift<Size32, MemLocation, RegCount>))
            : AluFamily.ByLocation(i, P(&Shift<Size8, RegLocation, ImmCount>), P(&Shift<Size16, RegLocation, ImmCount>), P(&Shift<Size32, RegLocation, ImmCount>),
                P(&Shift<Size8, MemLocation, ImmCount>), P(&Shift<Size16, MemLocation, ImmCount>), P(&Shift<Size32, MemLocation, ImmCount>));
    }

    /// <summary>The shift kind of a ROL..SAR mnemonic, stored in the op by the decoder.</summary>
    public static byte KindOf(Mnemonic m) => m switch
    {
        Mnemonic.Rol => Rol,
        Mnemonic.Ror => Ror,
        Mnemonic.Rcl => Rcl,
        Mnemonic.Rcr => Rcr,
        Mnemonic.Shl or Mnemonic.Sal => Shl,
        Mnemonic.Shr => Shr,
        Mnemonic.Sar => Sar,
        Mnemonic.Shld => 1,
        _ => 0,
    };

    private static nint SelectDouble(in Instruction i)
    {
        var cl = i.Op2Kind == OpKind.Register;
        return (Bits0(i), Reg0(i), cl) switch
        {
            (16, true, false) => P(&DoubleShift<Size16, RegLocation, ImmCount>),
            (16, true, true) => P(&DoubleShift<Size16, RegLocation, RegCount>),
            (16, false, false) => P(&DoubleShift<Size16, MemLocation, ImmCount>),
            (16, false, true) => P(&DoubleShift<Size16, MemLocation, RegCount>),
            (32, true, false) => P(&DoubleShift<Size32, RegLocation, ImmCount>),
            (32, true, true) => P(&DoubleShift<Size32, RegLocation, RegCount>),
            (32, false, false) => P(&DoubleShift<Size32, MemLocation, ImmCount>),
            _ => P(&DoubleShift<Size32, MemLocation, RegCount>),
        };
    }

    private static void Shift<TSize, TLoc, TCount>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation where TCount : IShiftCount
    {
        var count = TCount.Get(cpu, op) & 0x1F;
        if (count == 0)
        {
            // Still a read (and for memory, a write access check), but nothing changes.
            TLoc.Read<TSize>(cpu, op, true, out _);
            return;
        }
        var dst = TLoc.Read<TSize>(cpu, op, true, out var handle);
        var result = Apply(cpu, op->Aux, TSize.Bits, dst, count);
        TLoc.Write<TSize>(cpu, op, handle, result);
    }

    private static uint Apply(X86Cpu cpu, int kind, int bits, uint dst, uint count)
    {
        var mask = bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
        var sign = 1u << (bits - 1);
        uint result, cf, of;
        switch (kind)
        {
            case Rol:
            {
                var c = (int)(count % (uint)bits);
                result = c == 0 ? dst : ((dst << c) | (dst >> (bits - c))) & mask;
                cf = result & 1;
                of = ((result & sign) != 0 ? 1u : 0) ^ cf;
                cpu.SetStatusFlags(Flags.CF | Flags.OF, (cf != 0 ? Flags.CF : 0) | (of != 0 ? Flags.OF : 0));
                return result;
            }
            case Ror:
            {
                var c = (int)(count % (uint)bits);
                result = c == 0 ? dst : ((dst >> c) | (dst << (bits - c))) & mask;
                cf = (result & sign) != 0 ? 1u : 0;
                of = cf ^ ((result & (sign >> 1)) != 0 ? 1u : 0);
                cpu.SetStatusFlags(Flags.CF | Flags.OF, (cf != 0 ? Flags.CF : 0) | (of != 0 ? Flags.OF : 0));
                return result;
            }
            case Rcl:
            {
                var c = (int)(count % (uint)(bits + 1));
                ulong wide = dst | ((ulong)(cpu.CF ? 1u : 0) << bits);
                for (var n = 0; n < c; n++)
                    wide = ((wide << 1) | (wide >> bits)) & ((1UL << (bits + 1)) - 1);
                result = (uint)wide & mask;
                cf = (uint)(wide >> bits) & 1;
                of = ((result & sign) != 0 ? 1u : 0) ^ cf;
                cpu.SetStatusFlags(Flags.CF | Flags.OF, (cf != 0 ? Flags.CF : 0) | (of != 0 ? Flags.OF : 0));
                return result;
            }
            case Rcr:
            {
                var c = (int)(count % (uint)(bits + 1));
                var oldCf = cpu.CF ? 1u : 0;
                ulong wide = dst | ((ulong)oldCf << bits);
                for (var n = 0; n < c; n++)
                    wide = ((wide >> 1) | ((wide & 1) << bits)) & ((1UL << (bits + 1)) - 1);
                result = (uint)wide & mask;
                cf = (uint)(wide >> bits) & 1;
                // OF is the XOR of the two top bits of the result (equal to MSB(dst) ^ CF for one bit).
                of = ((result & sign) != 0 ? 1u : 0) ^ ((result & (sign >> 1)) != 0 ? 1u : 0);
                cpu.SetStatusFlags(Flags.CF | Flags.OF, (cf != 0 ? Flags.CF : 0) | (of != 0 ? Flags.OF : 0));
                return result;
            }
            case Shl:
                result = count >= 32 ? 0 : (dst << (int)count) & mask;
                cf = count > (uint)bits ? 0 : (uint)(((ulong)dst << (int)count) >> bits) & 1;
                of = ((result & sign) != 0 ? 1u : 0) ^ cf;
                break;
            case Shr:
                result = count >= 32 ? 0 : (dst >> (int)count) & mask;
                cf = count > (uint)bits ? 0 : (dst >> (int)(count - 1)) & 1;
                of = count == 1 ? ((dst & sign) != 0 ? 1u : 0) : 0;
                break;
            default:
            {
                var extended = (int)((dst & sign) != 0 ? dst | ~mask : dst);
                var c = (int)Math.Min(count, 31u);
                result = (uint)(extended >> c) & mask;
                cf = (uint)(extended >> (int)Math.Min(count - 1, 31u)) & 1;
                of = 0;
                break;
            }
        }
        var flags = Flags.Parity(result) | (result == 0 ? Flags.ZF : 0) | ((result & sign) != 0 ? Flags.SF : 0)
            | (cf != 0 ? Flags.CF : 0) | (of != 0 ? Flags.OF : 0);
        cpu.SetStatusFlags(Flags.Arith, flags);
        return result;
    }

    private static void DoubleShift<TSize, TLoc, TCount>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation where TCount : IShiftCount
    {
        var count = TCount.Get(cpu, op) & 0x1F;
        var dst = TLoc.Read<TSize>(cpu, op, true, out var handle);
        if (count == 0)
            return;
        var src = TSize.GetReg(cpu, op->R1);
        var bits = TSize.Bits;
        var left = op->Aux != 0;
        uint result, cf;
        if (bits == 32)
        {
            var c = (int)count;
            result = left ? (dst << c) | (src >> (32 - c)) : (dst >> c) | (src << (32 - c));
            cf = left ? (dst >> (32 - c)) & 1 : (dst >> (c - 1)) & 1;
        }
        else
        {
            // 16-bit counts above 16 are undefined; shifting the 48-bit dst:src:dst is one consistent choice.
            var wide = ((ulong)dst << 32) | ((ulong)src << 16) | dst;
            if (left)
            {
                var shifted = wide << (int)count;
                result = (uint)(shifted >> 32) & 0xFFFF;
                cf = (uint)(shifted >> 48) & 1;
            }
            else
            {
                result = (uint)(wide >> (int)count) & 0xFFFF;
                cf = (uint)(wide >> (int)(count - 1)) & 1;
            }
        }
        var sign = TSize.SignBit;
        var of = ((result ^ dst) & sign) != 0;
        var flags = Flags.Parity(result) | (result == 0 ? Flags.ZF : 0) | ((result & sign) != 0 ? Flags.SF : 0)
            | (cf != 0 ? Flags.CF : 0) | (of ? Flags.OF : 0);
        TLoc.Write<TSize>(cpu, op, handle, result);
        cpu.SetStatusFlags(Flags.Arith, flags);
    }
}
