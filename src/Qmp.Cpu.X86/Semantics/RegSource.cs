namespace Qmp.Cpu.X86.Semantics;

internal readonly unsafe struct RegSource : ISource
{
    public static uint Read<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize => TSize.GetReg(cpu, op->R1);
}
