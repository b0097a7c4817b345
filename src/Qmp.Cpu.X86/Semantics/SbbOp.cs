namespace Qmp.Cpu.X86.Semantics;

internal readonly struct SbbOp : IAluOp
{
    public static bool WritesResult => true;

    public static uint Apply<TSize>(X86Cpu cpu, uint dst, uint src) where TSize : IOpSize
    {
        var borrow = cpu.CF ? 1u : 0u;
        var r = (dst - src - borrow) & TSize.Mask;
        cpu.SetLazy(LazyOp.Sbb, TSize.Bits, r, dst, src);
        cpu.LazyCarryIn = borrow;
        return r;
    }
}
