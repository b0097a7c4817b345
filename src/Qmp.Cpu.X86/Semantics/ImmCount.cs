namespace Qmp.Cpu.X86.Semantics;

internal readonly unsafe struct ImmCount : IShiftCount
{
    public static uint Get(X86Cpu cpu, DecodedOp* op) => op->Imm;
}
