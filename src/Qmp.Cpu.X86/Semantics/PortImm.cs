namespace Qmp.Cpu.X86.Semantics;

internal readonly unsafe struct PortImm : IPort
{
    public static uint Get(X86Cpu cpu, DecodedOp* op) => op->Imm & 0xFF;
}
