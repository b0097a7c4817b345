namespace Qmp.Cpu.X86.Semantics;

internal readonly unsafe struct RegCount : IShiftCount
{
    public static uint Get(X86Cpu cpu, DecodedOp* op) => cpu.GetReg8(1);
}
