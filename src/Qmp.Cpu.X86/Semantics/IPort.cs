namespace Qmp.Cpu.X86.Semantics;

/// <summary>The port of IN/OUT: an 8-bit immediate or DX.</summary>
internal unsafe interface IPort
{
    static abstract uint Get(X86Cpu cpu, DecodedOp* op);
}
