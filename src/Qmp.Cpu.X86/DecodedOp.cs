using System.Runtime.InteropServices;

namespace Qmp.Cpu.X86;

/// <summary>
/// One pre-decoded guest instruction: its semantics routine and the operands it needs, so a
/// translation block runs without decoding again. Registers are numbered by position in the
/// instruction (R0 is the first operand's register); memory operands are base + index « scale +
/// disp in segment <see cref="Seg"/>; register number 8 reads as zero.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DecodedOp
{
    public delegate*<X86Cpu, DecodedOp*, void> Handler;
    public uint Eip;
    public uint NextEip;
    public uint Imm;
    public uint Imm2;

    /// <summary>Branch target of a fused compare-and-branch op.</summary>
    public uint Target;
    public int Disp;
    public byte R0;
    public byte R1;
    public byte R2;
    public byte Base;
    public byte Index;
    public byte Scale;
    public byte Seg;
    public byte Addr16;
    public byte Rep;
    public byte Length;
    public byte Aux;

    /// <summary>Guest instructions this op stands for: 2 for a fused compare-and-branch.</summary>
    public byte Weight;
    public ushort Code;

    public const byte RepNone = 0, RepE = 1, RepNe = 2;
}
