namespace Qmp.Cpu.X86.Semantics;

internal readonly unsafe struct PortDx : IPort
{
    public static uint Get(X86Cpu cpu, DecodedOp* op) => cpu.Reg(Gpr32.Edx) & 0xFFFF;
}
