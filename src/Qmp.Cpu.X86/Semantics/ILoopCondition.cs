namespace Qmp.Cpu.X86.Semantics;

/// <summary>LOOP's extra condition: none, ZF set (LOOPE), ZF clear (LOOPNE).</summary>
internal interface ILoopCondition
{
    static abstract bool Continue(X86Cpu cpu);
}
