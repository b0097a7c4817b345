namespace Qmp.Cpu.X86.Tests.Differential;

internal enum FormOperandKind
{
    Register,
    Memory,
    Immediate,
}
