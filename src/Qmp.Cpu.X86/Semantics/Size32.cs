namespace Qmp.Cpu.X86.Semantics;

internal readonly struct Size32 : IOpSize
{
    public static int Bits => 32;

    public static uint Mask => 0xFFFFFFFF;

    public static uint SignBit => 0x80000000;

    public static uint GetReg(X86Cpu cpu, int index) => cpu.Reg(index);

    public static void SetReg(X86Cpu cpu, int index, uint value) => cpu.Reg(index) = value;

    public static uint LoadLinear(X86Cpu cpu, uint linear) => cpu.ReadLinear32(linear);

    public static void StoreLinear(X86Cpu cpu, uint linear, uint value) => cpu.WriteLinear32(linear, value);
}
