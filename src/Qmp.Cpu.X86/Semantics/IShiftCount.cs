namespace Qmp.Cpu.X86.Semantics;

/// <summary>Where a shift count comes from: the immediate or CL.</summary>
internal unsafe interface IShiftCount
{
    static abstract uint Get(X86Cpu cpu, DecodedOp* op);
}
