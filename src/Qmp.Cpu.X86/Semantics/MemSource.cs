namespace Qmp.Cpu.X86.Semantics;

internal readonly unsafe struct MemSource : ISource
{
    public static uint Read<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize =>
        TSize.LoadLinear(cpu, cpu.Linear(op->Seg, cpu.EffectiveAddress(op), TSize.Bits / 8, false));
}
