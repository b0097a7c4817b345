using Iced.Intel;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// The one table from Iced <see cref="Code"/> to semantics: every code of the legacy 16/32-bit
/// encoding maps to the selector of its family. Codes without an entry raise #UD.
/// </summary>
internal static class OpTable
{
    private static readonly int CodeCount = Enum.GetValues<Code>().Max(c => (int)c) + 1;
    private static readonly OpSelector?[] s_byCode = new OpSelector?[CodeCount];
    private static readonly bool[] s_endsBlock = new bool[CodeCount];

    static OpTable()
    {
        var builder = new OpTableBuilder();
        AluFamily.Register(builder);
        MoveFamily.Register(builder);
        StackFamily.Register(builder);
        BranchFamily.Register(builder);
        ShiftFamily.Register(builder);
        MulDivFamily.Register(builder);
        BitFamily.Register(builder);
        StringFamily.Register(builder);
        BcdFamily.Register(builder);
        FlagFamily.Register(builder);
        SystemFamily.Register(builder);
        for (var c = 0; c < CodeCount; c++)
        {
            var code = (Code)c;
            var info = code.ToOpCode();
            if (info.Encoding != EncodingKind.Legacy || !(info.Mode32 || info.Mode16))
                continue;
            s_byCode[c] = builder.ByCode.GetValueOrDefault(code) ?? builder.ByMnemonic.GetValueOrDefault(code.Mnemonic());
            // Every x87 escape (D8-DF) answers as an absent FPU does: #NM under CR0.EM or TS, else #UD.
            if (s_byCode[c] is null && info.Table == OpCodeTableKind.Normal && info.OpCode >> (8 * (info.OpCodeLength - 1)) is >= 0xD8 and <= 0xDF)
                s_byCode[c] = SystemFamily.SelectFpu;
            s_endsBlock[c] = builder.EndsBlock.Contains(code.Mnemonic());
        }
    }

    /// <summary>The semantics routine for <paramref name="instruction"/>, or 0 when the form is not implemented.</summary>
    public static nint Select(in Instruction instruction) =>
        s_byCode[(int)instruction.Code] is { } selector ? selector(instruction) : 0;

    /// <summary>True when the block must end after this instruction even though it does not branch.</summary>
    public static bool EndsBlock(Code code) => s_endsBlock[(int)code];

    /// <summary>Whether any semantics are registered for <paramref name="code"/>.</summary>
    public static bool IsKnown(Code code) => s_byCode[(int)code] is not null;
}
