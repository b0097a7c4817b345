using Iced.Intel;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>Helpers the families use to choose an instantiation from an instruction's operands.</summary>
internal static unsafe class Pick
{
    public static nint P(delegate*<X86Cpu, DecodedOp*, void> handler) => (nint)handler;

    /// <summary>Size in bits of operand 0 (a register or memory).</summary>
    public static int Bits0(in Instruction i) =>
        i.Op0Kind == OpKind.Register ? i.Op0Register.GetSize() * 8 : i.MemorySize.GetSize() * 8;

    /// <summary>Size in bits of operand 1.</summary>
    public static int Bits1(in Instruction i) =>
        i.Op1Kind == OpKind.Register ? i.Op1Register.GetSize() * 8 : i.MemorySize.GetSize() * 8;

    public static bool Reg0(in Instruction i) => i.Op0Kind == OpKind.Register;

    public static bool Mem(in Instruction i, int operand) => i.GetOpKind(operand) == OpKind.Memory;

    public static bool Imm(in Instruction i, int operand) => i.GetOpKind(operand) is OpKind.Immediate8 or OpKind.Immediate16
        or OpKind.Immediate32 or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8_2nd;

    public static nint BySize(int bits, nint p8, nint p16, nint p32) => bits switch
    {
        8 => p8,
        16 => p16,
        32 => p32,
        _ => 0,
    };

    /// <summary>The address size of the string or xlat operand: 16 when it uses SI/DI/BX.</summary>
    public static int StringAddressBits(in Instruction i)
    {
        for (var n = 0; n < i.OpCount; n++)
        {
            switch (i.GetOpKind(n))
            {
                case OpKind.MemorySegSI or OpKind.MemorySegDI or OpKind.MemoryESDI:
                    return 16;
                case OpKind.MemorySegESI or OpKind.MemorySegEDI or OpKind.MemoryESEDI:
                    return 32;
            }
        }
        return 32;
    }
}
