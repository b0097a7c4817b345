namespace Qmp.Cpu.X86.Semantics;

/// <summary>The first operand is register R0.</summary>
internal readonly unsafe struct RegLocation : ILocation
{
    public static uint Read<TSize>(X86Cpu cpu, DecodedOp* op, bool forWrite, out uint handle) where TSize : IOpSize
    {
        handle = 0;
        return TSize.GetReg(cpu, op->R0);
    }

    public static void Write<TSize>(X86Cpu cpu, DecodedOp* op, uint handle, uint value) where TSize : IOpSize =>
        TSize.SetReg(cpu, op->R0, value);

    public static uint Resolve<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize => 0;
}
