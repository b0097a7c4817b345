namespace Qmp.Cpu.X86.Semantics;

internal readonly struct ZeroExtend : IExtension
{
    public static bool Signed => false;
}
