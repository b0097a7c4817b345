namespace Qmp.Cpu.X86.Semantics;

/// <summary>A two-operand ALU operation: computes the result and records the flags lazily.</summary>
internal interface IAluOp
{
    /// <summary>False for CMP and TEST, which only set flags.</summary>
    static abstract bool WritesResult { get; }

    static abstract uint Apply<TSize>(X86Cpu cpu, uint dst, uint src) where TSize : IOpSize;
}
