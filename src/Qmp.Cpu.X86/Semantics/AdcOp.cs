namespace Qmp.Cpu.X86.Semantics;

internal readonly struct AdcOp : IAluOp
{
    public static bool WritesResult => true;

    public static uint Apply<TSize>(X86Cpu cpu, uint dst, uint src) where TSize : IOpSize
    {
        var carry = cpu.CF ? 1u : 0u;
        var r = (dst + src + carry) & TSize.Mask;
        cpu.SetLazy(LazyOp.Adc, TSize.Bits, r, dst, src);
        cpu.LazyCarryIn = carry;
        return r;
    }
}
