using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// Which status flags the SDM leaves undefined after an instruction with concrete operands.
/// Iced's static answer is right except where it depends on the shift/rotate count, which Iced
/// only knows for immediates; the count rules (SDM vol. 2, SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD/SHRD) are:
/// a masked count of 0 changes no flag; OF is defined only for a count of 1; shifts leave AF undefined;
/// SHL/SHR leave CF undefined when the count reaches the operand width.
/// </summary>
internal static class FlagRules
{
    public static uint ToEflags(RflagsBits bits)
    {
        uint flags = 0;
        if ((bits & RflagsBits.CF) != 0)
            flags |= CpuLayout.CF;
        if ((bits & RflagsBits.PF) != 0)
            flags |= CpuLayout.PF;
        if ((bits & RflagsBits.AF) != 0)
            flags |= CpuLayout.AF;
        if ((bits & RflagsBits.ZF) != 0)
            flags |= CpuLayout.ZF;
        if ((bits & RflagsBits.SF) != 0)
            flags |= CpuLayout.SF;
        if ((bits & RflagsBits.OF) != 0)
            flags |= CpuLayout.OF;
        if ((bits & RflagsBits.DF) != 0)
            flags |= CpuLayout.DF;
        if ((bits & RflagsBits.IF) != 0)
            flags |= CpuLayout.IF;
        return flags;
    }

    /// <summary>Undefined status flags after <paramref name="instruction"/> runs with the given input registers.</summary>
    public static uint Undefined(in Instruction instruction, IReadOnlyList<uint> registers)
    {
        var mnemonic = instruction.Mnemonic;
        if (!IsCountedShift(mnemonic))
            return ToEflags(instruction.RflagsUndefined) & CpuLayout.StatusFlags;

        var countOperand = instruction.OpCount - 1;
        var count = instruction.GetOpKind(countOperand) == OpKind.Register
            ? (int)(registers[CpuLayout.Ecx] & 0xFF)
            : instruction.Immediate8;
        return ShiftUndefined(mnemonic, OperandBits(instruction), count & 0x1F);
    }

    public static uint ShiftUndefined(Mnemonic mnemonic, int width, int maskedCount)
    {
        if (maskedCount == 0)
            return 0;
        var undefined = maskedCount == 1 ? 0 : CpuLayout.OF;
        switch (mnemonic)
        {
            case Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr:
                undefined |= CpuLayout.AF;
                if (maskedCount >= width)
                    undefined |= CpuLayout.CF;
                break;
            case Mnemonic.Sar:
                undefined |= CpuLayout.AF;
                break;
            case Mnemonic.Shld or Mnemonic.Shrd:
                undefined |= CpuLayout.AF;
                if (maskedCount > width)
                    undefined |= CpuLayout.StatusFlags; // the result is undefined too; the generator avoids this
                break;
        }

        return undefined;
    }

    public static bool IsCountedShift(Mnemonic mnemonic) =>
        mnemonic is Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar or Mnemonic.Rol or Mnemonic.Ror
            or Mnemonic.Rcl or Mnemonic.Rcr or Mnemonic.Shld or Mnemonic.Shrd;

    /// <summary>Width in bits of the destination (operand 0) of a register or memory instruction.</summary>
    public static int OperandBits(in Instruction instruction) =>
        instruction.Op0Kind == OpKind.Register
            ? CaseBuilder.SizeOf(instruction.Op0Register) * 8
            : instruction.MemorySize.GetSize() * 8;
}
