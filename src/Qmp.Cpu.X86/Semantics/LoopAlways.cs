namespace Qmp.Cpu.X86.Semantics;

internal readonly struct LoopAlways : ILoopCondition
{
    public static bool Continue(X86Cpu cpu) => true;
}
