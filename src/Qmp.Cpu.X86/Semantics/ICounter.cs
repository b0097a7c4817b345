namespace Qmp.Cpu.X86.Semantics;

/// <summary>The count register of LOOP, JCXZ and REP: CX or ECX, chosen by the address size.</summary>
internal interface ICounter
{
    static abstract uint Mask { get; }

    static abstract uint Get(X86Cpu cpu);

    static abstract void Set(X86Cpu cpu, uint value);
}
