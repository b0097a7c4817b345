namespace Qmp.Cpu.X86.Semantics;

internal readonly struct Counter16 : ICounter
{
    public static uint Mask => 0xFFFF;

    public static uint Get(X86Cpu cpu) => cpu.Reg(Gpr32.Ecx) & 0xFFFF;

    public static void Set(X86Cpu cpu, uint value) => cpu.SetReg16(Gpr32.Ecx, value);
}
