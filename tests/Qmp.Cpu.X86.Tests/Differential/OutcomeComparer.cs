namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// Compares an outcome with the expected (native) one the way the differential tests should:
/// everything architectural, flags through <see cref="CpuCase.FlagsMask"/> (all compared flags when
/// an exception stopped the code, since the faulting instruction changed none), the error code only
/// for vectors that push one, CR2 only for #PF.
/// </summary>
internal static class OutcomeComparer
{
    /// <summary>Human-readable differences; empty when the outcomes agree. <paramref name="undefinedFlags"/> compares the flags the manuals leave undefined too (same-vendor hosts).</summary>
    public static IReadOnlyList<string> Differences(CpuCase c, CpuOutcome expected, CpuOutcome actual, bool undefinedFlags = false)
    {
        var differences = new List<string>();
        if (expected.Vector != actual.Vector || expected.TimedOut != actual.TimedOut)
            differences.Add($"result: expected {CaseFormatter.FormatVector(expected)}, got {CaseFormatter.FormatVector(actual)}");
        for (var i = 0; i < CpuLayout.RegisterCount; i++)
        {
            if (expected.Registers[i] != actual.Registers[i])
                differences.Add($"{CpuLayout.RegisterNames[i]}: expected {expected.Registers[i]:X8}, got {actual.Registers[i]:X8}");
        }

        if (expected.Eip != actual.Eip)
            differences.Add($"EIP: expected {expected.Eip:X8}, got {actual.Eip:X8}");
        var mask = expected.Vector is null && !undefinedFlags ? c.FlagsMask : CpuLayout.ComparedFlags;
        if (((expected.Eflags ^ actual.Eflags) & mask) != 0)
        {
            differences.Add($"EFLAGS: expected {CaseFormatter.FormatFlags(expected.Eflags)}, got {CaseFormatter.FormatFlags(actual.Eflags)}, "
                + $"differing [{CaseFormatter.FormatFlagNames((expected.Eflags ^ actual.Eflags) & mask)}]");
        }

        if (expected.Vector is { } vector && vector == actual.Vector)
        {
            if (HasErrorCode(vector) && expected.ErrorCode != actual.ErrorCode)
                differences.Add($"error code: expected {expected.ErrorCode:X}, got {actual.ErrorCode:X}");
            if (vector == CpuLayout.PageFault && expected.Cr2 != actual.Cr2)
                differences.Add($"CR2: expected {expected.Cr2:X8}, got {actual.Cr2:X8}");
        }

        var data = CaseFormatter.DataChanges(expected.Data, actual.Data);
        if (data.Length > 0)
            differences.Add($"data (expected -> got): {data}");
        return differences;
    }

    /// <summary>#DF #TS #NP #SS #GP #PF #AC push an error code.</summary>
    public static bool HasErrorCode(uint vector) => vector is 8 or (>= 10 and <= 14) or 17;
}
