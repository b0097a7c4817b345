namespace Qmp.Cpu.X86.Semantics;

/// <summary>The first operand is the op's memory operand.</summary>
internal readonly unsafe struct MemLocation : ILocation
{
    public static uint Read<TSize>(X86Cpu cpu, DecodedOp* op, bool forWrite, out uint handle) where TSize : IOpSize
    {
        handle = cpu.Linear(op->Seg, cpu.EffectiveAddress(op), TSize.Bits / 8, forWrite);
        if (forWrite)
            cpu.PrepareWrite(handle, TSize.Bits / 8);
        return TSize.LoadLinear(cpu, handle);
    }

    public static void Write<TSize>(X86Cpu cpu, DecodedOp* op, uint handle, uint value) where TSize : IOpSize =>
        TSize.StoreLinear(cpu, handle, value);

    public static uint Resolve<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize =>
        cpu.Linear(op->Seg, cpu.EffectiveAddress(op), TSize.Bits / 8, true);
}
