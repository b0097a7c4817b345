using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>One explicit operand chosen for a generated instruction.</summary>
internal readonly record struct FormOperand
{
    public FormOperandKind Kind { get; init; }

    public Register Register { get; init; }

    public MemoryOperand Memory { get; init; }

    /// <summary>Offset of the memory operand from <see cref="CpuLayout.DataBase"/> (may lie outside the window on purpose).</summary>
    public int MemoryOffset { get; init; }

    /// <summary>Bytes the memory operand accesses.</summary>
    public int MemorySize { get; init; }

    public int Immediate { get; init; }

    public static FormOperand Reg(Register register) => new() { Kind = FormOperandKind.Register, Register = register };

    public static FormOperand Mem(MemoryOperand memory, int offset, int size) =>
        new() { Kind = FormOperandKind.Memory, Memory = memory, MemoryOffset = offset, MemorySize = size };

    public static FormOperand Imm(int value) => new() { Kind = FormOperandKind.Immediate, Immediate = value };
}
