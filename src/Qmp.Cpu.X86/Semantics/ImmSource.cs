namespace Qmp.Cpu.X86.Semantics;

internal readonly unsafe struct ImmSource : ISource
{
    public static uint Read<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize => op->Imm & TSize.Mask;
}
