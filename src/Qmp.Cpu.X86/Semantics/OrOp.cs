namespace Qmp.Cpu.X86.Semantics;

internal readonly struct OrOp : IAluOp
{
    public static bool WritesResult => true;

    public static uint Apply<TSize>(X86Cpu cpu, uint dst, uint src) where TSize : IOpSize
    {
        var r = dst | src;
        cpu.SetLazy(LazyOp.Logic, TSize.Bits, r, 0, 0);
        return r;
    }
}
