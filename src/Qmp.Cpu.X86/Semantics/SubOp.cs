namespace Qmp.Cpu.X86.Semantics;

internal readonly struct SubOp : IAluOp
{
    public static bool WritesResult => true;

    public static uint Apply<TSize>(X86Cpu cpu, uint dst, uint src) where TSize : IOpSize
    {
        var r = (dst - src) & TSize.Mask;
        cpu.SetLazy(LazyOp.Sub, TSize.Bits, r, dst, src);
        return r;
    }
}
