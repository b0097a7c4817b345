namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// An operand size. Semantics are written once as generic routines over the size; the JIT
/// specialises each instantiation, so the interpreter pays no size dispatch at run time.
/// </summary>
internal interface IOpSize
{
    static abstract int Bits { get; }

    static abstract uint Mask { get; }

    static abstract uint SignBit { get; }

    static abstract uint GetReg(X86Cpu cpu, int index);

    static abstract void SetReg(X86Cpu cpu, int index, uint value);

    static abstract uint LoadLinear(X86Cpu cpu, uint linear);

    static abstract void StoreLinear(X86Cpu cpu, uint linear, uint value);
}
