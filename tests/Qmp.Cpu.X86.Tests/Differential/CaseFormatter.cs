using System.Text;
using Decoder = Iced.Intel.Decoder;
using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>Human-readable descriptions of cases and outcomes for assertion messages.</summary>
internal static class CaseFormatter
{
    private static readonly (uint Bit, string Name)[] _flagNames =
    [
        (CpuLayout.CF, "CF"), (CpuLayout.PF, "PF"), (CpuLayout.AF, "AF"), (CpuLayout.ZF, "ZF"), (CpuLayout.SF, "SF"),
        (CpuLayout.TF, "TF"), (CpuLayout.IF, "IF"), (CpuLayout.DF, "DF"), (CpuLayout.OF, "OF"),
    ];

    /// <summary>Name, bytes, disassembly, input registers and flags, and the memory the first instruction addresses.</summary>
    public static string Describe(CpuCase c)
    {
        var text = new StringBuilder();
        text.AppendLine(c.Name);
        text.Append("  code:   ").AppendLine(Convert.ToHexString(c.Code));
        foreach (var line in Disassemble(c.Code))
            text.Append("          ").AppendLine(line);
        text.Append("  regs:   ").AppendLine(FormatRegisters(c.Registers));
        text.Append("  eflags: ").Append(FormatFlags(CpuLayout.EffectiveInputFlags(c.Eflags)))
            .Append("  compared ").Append(c.FlagsMask.ToString("X3"))
            .Append(", undefined ").AppendLine(FormatFlagNames(c.UndefinedFlags));
        foreach (var (address, label) in InterestingAddresses(c))
            text.Append("  ").Append(label).Append(' ').AppendLine(Dump(c.Data, address));
        return text.ToString();
    }

    /// <summary>The case followed by the outcome, with the data bytes the code changed.</summary>
    public static string Describe(CpuCase c, CpuOutcome outcome)
    {
        var text = new StringBuilder(Describe(c));
        text.Append("  => regs:   ").AppendLine(FormatRegisters(outcome.Registers));
        text.Append("     eip:    ").Append(outcome.Eip.ToString("X8"))
            .Append("  eflags ").AppendLine(FormatFlags(outcome.Eflags));
        text.Append("     result: ").AppendLine(FormatVector(outcome));
        var changes = DataChanges(c.Data, outcome.Data);
        text.Append("     data:   ").AppendLine(changes.Length == 0 ? "unchanged" : changes);
        return text.ToString();
    }

    public static string FormatVector(CpuOutcome outcome) =>
        outcome.TimedOut ? "timed out"
        : outcome.Vector is { } vector ? $"vector {vector} ({VectorName(vector)}) error {outcome.ErrorCode:X} cr2 {outcome.Cr2:X8}"
        : "completed";

    public static string VectorName(uint vector) => vector switch
    {
        CpuLayout.DivideError => "#DE",
        CpuLayout.DebugTrap => "#DB",
        CpuLayout.Breakpoint => "#BP",
        CpuLayout.Overflow => "#OF",
        CpuLayout.BoundRange => "#BR",
        CpuLayout.InvalidOpcode => "#UD",
        CpuLayout.GeneralProtection => "#GP",
        CpuLayout.PageFault => "#PF",
        17 => "#AC",
        _ => "?",
    };

    public static IReadOnlyList<string> Disassemble(byte[] code)
    {
        var formatter = new NasmFormatter();
        formatter.Options.HexPrefix = "0x";
        formatter.Options.HexSuffix = null;
        var output = new StringOutput();
        var lines = new List<string>();
        foreach (var instruction in Decode(code))
        {
            formatter.Format(instruction, output);
            lines.Add($"{instruction.IP:X8} {output.ToStringAndReset()}");
        }

        return lines;
    }

    /// <summary>
    /// Decodes code placed at <see cref="CpuLayout.CodeBase"/>. Without Iced's invalid check, so
    /// encodings that fault on purpose (LOCK on a register destination) still decode to their form.
    /// </summary>
    public static IReadOnlyList<Instruction> Decode(byte[] code)
    {
        var decoder = Decoder.Create(32, new ByteArrayCodeReader(code), CpuLayout.CodeBase, DecoderOptions.NoInvalidCheck);
        var instructions = new List<Instruction>();
        while (decoder.IP < CpuLayout.CodeBase + (uint)code.Length)
            instructions.Add(decoder.Decode());
        return instructions;
    }

    public static string FormatRegisters(IReadOnlyList<uint> registers) =>
        string.Join(' ', registers.Select((value, i) => $"{CpuLayout.RegisterNames[i]}={value:X8}"));

    public static string FormatFlags(uint eflags) => $"{eflags:X8} [{FormatFlagNames(eflags)}]";

    public static string FormatFlagNames(uint eflags) =>
        string.Join(' ', _flagNames.Where(f => (eflags & f.Bit) != 0).Select(f => f.Name));

    /// <summary>Ranges of changed bytes, as "offset: before -> after" (bounded, for messages).</summary>
    public static string DataChanges(byte[] before, byte[] after)
    {
        var parts = new List<string>();
        for (var i = 0; i < before.Length && parts.Count < 8; i++)
        {
            if (before[i] == after[i])
                continue;
            var end = i;
            while (end + 1 < before.Length && before[end + 1] != after[end + 1] && end - i < 15)
                end++;
            parts.Add($"{CpuLayout.DataBase + (uint)i:X8}: {Convert.ToHexString(before, i, end - i + 1)} -> {Convert.ToHexString(after, i, end - i + 1)}");
            i = end;
        }

        return string.Join("; ", parts);
    }

    private static IEnumerable<(uint Address, string Label)> InterestingAddresses(CpuCase c)
    {
        yield return (c.StackPointer, "[esp]:  ");
        var first = Decode(c.Code)[0];
        for (var i = 0; i < first.OpCount; i++)
        {
            var kind = first.GetOpKind(i);
            if (kind is not (OpKind.Memory or OpKind.MemorySegESI or OpKind.MemoryESEDI or OpKind.MemorySegEDI) || first.Mnemonic == Mnemonic.Lea)
                continue;
            if (first.TryGetVirtualAddress(i, 0, out var address, (Register register, int _, int _, out ulong value) => TryRead(c, register, out value)))
                yield return ((uint)address, $"[op{i}]:  ");
        }
    }

    private static bool TryRead(CpuCase c, Register register, out ulong value)
    {
        value = 0;
        if (register is Register.ES or Register.CS or Register.SS or Register.DS)
            return true; // flat segments
        try
        {
            var (index, shift, bits) = CaseBuilder.Locate(register);
            var full = c.Registers[index] >> shift;
            value = bits == 32 ? full : full & ((1u << bits) - 1);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static string Dump(byte[] data, uint address)
    {
        if (!CpuLayout.IsInDataWindow(address, 1))
            return $"{address:X8}: (outside the data window)";
        var offset = (int)(address - CpuLayout.DataBase);
        var length = Math.Min(16, data.Length - offset);
        return $"{address:X8}: {Convert.ToHexString(data, offset, length)}";
    }
}
