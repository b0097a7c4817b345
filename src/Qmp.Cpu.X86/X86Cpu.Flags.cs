using System.Runtime.CompilerServices;

namespace Qmp.Cpu.X86;

public sealed partial class X86Cpu
{
    /// <summary>Records a flag-setting operation for later evaluation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetLazy(LazyOp kind, int bits, uint result, uint dst, uint src)
    {
        LazyKind = kind;
        LazyBits = (byte)bits;
        LazyResult = result;
        LazyDst = dst;
        LazySrc = src;
    }

    /// <summary>Makes EFLAGS' status bits current, so an instruction can change some of them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void MaterializeFlags()
    {
        if (LazyKind != LazyOp.None)
        {
            EflagsRaw = (EflagsRaw & ~Flags.Arith) | ComputeArithFlags();
            LazyKind = LazyOp.None;
        }
    }

    /// <summary>Sets the status flags selected by <paramref name="mask"/> to <paramref name="bits"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetStatusFlags(uint mask, uint bits)
    {
        MaterializeFlags();
        EflagsRaw = (EflagsRaw & ~mask) | (bits & mask);
    }

    // Operands and results are stored masked to the operand size, so carries compare directly.
    internal bool CF => LazyKind switch
    {
        LazyOp.None => (EflagsRaw & Flags.CF) != 0,
        LazyOp.Logic => false,
        LazyOp.Inc or LazyOp.Dec => LazyCarryIn != 0,
        LazyOp.Add => LazyResult < LazyDst,
        LazyOp.Sub => LazyDst < LazySrc,
        LazyOp.Adc => LazyCarryIn != 0 ? LazyResult <= LazyDst : LazyResult < LazyDst,
        _ => LazyCarryIn != 0 ? LazyDst <= LazySrc : LazyDst < LazySrc,
    };

    internal uint ComputeArithFlags()
    {
        var bits = LazyBits;
        var mask = bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
        var sign = 1u << (bits - 1);
        var res = LazyResult & mask;
        var dst = LazyDst & mask;
        var src = LazySrc & mask;
        var flags = Flags.Parity(res);
        if (res == 0)
            flags |= Flags.ZF;
        if ((res & sign) != 0)
            flags |= Flags.SF;
        switch (LazyKind)
        {
            case LazyOp.Add:
                if (res < dst) flags |= Flags.CF;
                flags |= (dst ^ src ^ res) & Flags.AF;
                if (((dst ^ res) & (src ^ res) & sign) != 0) flags |= Flags.OF;
                break;
            case LazyOp.Adc:
                if (LazyCarryIn != 0 ? res <= dst : res < dst) flags |= Flags.CF;
                flags |= (dst ^ src ^ res) & Flags.AF;
                if (((dst ^ res) & (src ^ res) & sign) != 0) flags |= Flags.OF;
                break;
            case LazyOp.Sub:
                if (dst < src) flags |= Flags.CF;
                flags |= (dst ^ src ^ res) & Flags.AF;
                if (((dst ^ src) & (dst ^ res) & sign) != 0) flags |= Flags.OF;
                break;
            case LazyOp.Sbb:
                if (LazyCarryIn != 0 ? dst <= src : dst < src) flags |= Flags.CF;
                flags |= (dst ^ src ^ res) & Flags.AF;
                if (((dst ^ src) & (dst ^ res) & sign) != 0) flags |= Flags.OF;
                break;
            case LazyOp.Logic:
                break;
            case LazyOp.Inc:
                flags |= LazyCarryIn;
                flags |= (dst ^ 1 ^ res) & Flags.AF;
                if (res == sign) flags |= Flags.OF;
                break;
            case LazyOp.Dec:
                flags |= LazyCarryIn;
                flags |= (dst ^ 1 ^ res) & Flags.AF;
                if (res == sign - 1) flags |= Flags.OF;
                break;
            default:
                return EflagsRaw & Flags.Arith;
        }
        return flags;
    }

    /// <summary>Evaluates condition code <paramref name="cc"/> (the low nibble of Jcc/SETcc/CMOVcc).</summary>
    internal bool Condition(int cc)
    {
        var result = LazyKind switch
        {
            LazyOp.Sub => ConditionAfterSub(cc >> 1),
            LazyOp.Logic => ConditionAfterLogic(cc >> 1),
            _ => ConditionFromFlags(cc >> 1),
        };
        return result ^ ((cc & 1) != 0);
    }

    // CMP and SUB: every condition straight from the operands, without materialising EFLAGS.
    private bool ConditionAfterSub(int test)
    {
        var shift = 32 - LazyBits;
        var dst = LazyDst;
        var src = LazySrc;
        switch (test)
        {
            case 1: return dst < src;
            case 2: return dst == src;
            case 3: return dst <= src;
            case 4: return ((LazyResult << shift) & 0x80000000) != 0;
            case 6: return (int)(dst << shift) < (int)(src << shift);
            case 7: return (int)(dst << shift) <= (int)(src << shift);
            default: return ConditionFromFlags(test);
        }
    }

    // AND OR XOR TEST: CF = OF = 0, so B is never true, BE is ZF, L is SF, LE is ZF or SF.
    private bool ConditionAfterLogic(int test)
    {
        var mask = LazyBits == 32 ? 0xFFFFFFFFu : (1u << LazyBits) - 1;
        var result = LazyResult & mask;
        var sign = (result & (1u << (LazyBits - 1))) != 0;
        switch (test)
        {
            case 0 or 1: return false;
            case 2 or 3: return result == 0;
            case 4 or 6: return sign;
            case 7: return result == 0 || sign;
            default: return ConditionFromFlags(test);
        }
    }

    private bool ConditionFromFlags(int test)
    {
        var f = Eflags;
        return test switch
        {
            0 => (f & Flags.OF) != 0,
            1 => (f & Flags.CF) != 0,
            2 => (f & Flags.ZF) != 0,
            3 => (f & (Flags.CF | Flags.ZF)) != 0,
            4 => (f & Flags.SF) != 0,
            5 => (f & Flags.PF) != 0,
            6 => ((f & Flags.SF) != 0) != ((f & Flags.OF) != 0),
            _ => (f & Flags.ZF) != 0 || ((f & Flags.SF) != 0) != ((f & Flags.OF) != 0),
        };
    }
}
