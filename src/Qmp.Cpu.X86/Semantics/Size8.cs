namespace Qmp.Cpu.X86.Semantics;

internal readonly struct Size8 : IOpSize
{
    public static int Bits => 8;

    public static uint Mask => 0xFF;

    public static uint SignBit => 0x80;

    public static uint GetReg(X86Cpu cpu, int index) => cpu.GetReg8(index);

    public static void SetReg(X86Cpu cpu, int index, uint value) => cpu.SetReg8(index, value);

    public static uint LoadLinear(X86Cpu cpu, uint linear) => cpu.ReadLinear8(linear);

    public static void StoreLinear(X86Cpu cpu, uint linear, uint value) => cpu.WriteLinear8(linear, (byte)value);
}
