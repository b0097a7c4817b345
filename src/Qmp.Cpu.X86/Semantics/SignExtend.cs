namespace Qmp.Cpu.X86.Semantics;

internal readonly struct SignExtend : IExtension
{
    public static bool Signed => true;
}
