namespace Qmp.Cpu.X86.Semantics;

internal readonly struct Size16 : IOpSize
{
    public static int Bits => 16;

    public static uint Mask => 0xFFFF;

    public static uint SignBit => 0x8000;

    public static uint GetReg(X86Cpu cpu, int index) => cpu.Reg(index) & 0xFFFF;

    public static void SetReg(X86Cpu cpu, int index, uint value) => cpu.SetReg16(index, value);

    public static uint LoadLinear(X86Cpu cpu, uint linear) => cpu.ReadLinear16(linear);

    public static void StoreLinear(X86Cpu cpu, uint linear, uint value) => cpu.WriteLinear16(linear, (ushort)value);
}
