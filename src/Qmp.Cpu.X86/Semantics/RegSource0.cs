namespace Qmp.Cpu.X86.Semantics;

/// <summary>The register operand of a one-operand instruction (MUL, DIV): R0.</summary>
internal readonly unsafe struct RegSource0 : ISource
{
    public static uint Read<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize => TSize.GetReg(cpu, op->R0);
}
