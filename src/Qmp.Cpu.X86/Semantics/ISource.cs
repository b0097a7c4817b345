namespace Qmp.Cpu.X86.Semantics;

/// <summary>Where an instruction's second operand comes from: register R1, memory, or the immediate.</summary>
internal unsafe interface ISource
{
    static abstract uint Read<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize;
}
