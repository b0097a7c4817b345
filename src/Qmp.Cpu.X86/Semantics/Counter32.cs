namespace Qmp.Cpu.X86.Semantics;

internal readonly struct Counter32 : ICounter
{
    public static uint Mask => 0xFFFFFFFF;

    public static uint Get(X86Cpu cpu) => cpu.Reg(Gpr32.Ecx);

    public static void Set(X86Cpu cpu, uint value) => cpu.Reg(Gpr32.Ecx) = value;
}
