namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// Where an instruction's first operand lives: a register (R0) or memory. Read returns a handle
/// (the linear address for memory) that Write reuses, so read-modify-write translates once.
/// </summary>
internal unsafe interface ILocation
{
    static abstract uint Read<TSize>(X86Cpu cpu, DecodedOp* op, bool forWrite, out uint handle) where TSize : IOpSize;

    static abstract void Write<TSize>(X86Cpu cpu, DecodedOp* op, uint handle, uint value) where TSize : IOpSize;

    /// <summary>Resolves the location for a write without reading it.</summary>
    static abstract uint Resolve<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize;
}
