namespace Qmp.Cpu.X86.Semantics;

internal readonly struct LoopWhileZero : ILoopCondition
{
    public static bool Continue(X86Cpu cpu) => cpu.Condition(4);
}
