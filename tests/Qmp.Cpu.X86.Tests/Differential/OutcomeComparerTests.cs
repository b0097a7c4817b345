namespace Qmp.Cpu.X86.Tests.Differential;

public sealed class OutcomeComparerTests
{
    private static readonly CpuCase _case = new()
    {
        Name = "comparer",
        Registers = [1, 2, 3, 4, CpuLayout.DefaultStackPointer, 6, 7, 8],
        Eflags = 0,
        Code = [0x90],
        Data = new byte[CpuLayout.DataSize],
        UndefinedFlags = CpuLayout.AF,
        FlagsMask = CpuLayout.ComparedFlags & ~CpuLayout.AF,
    };

    private static CpuOutcome Outcome(uint eflags = CpuLayout.ForcedFlags, uint? vector = null, uint eax = 1, byte first = 0) => new()
    {
        Registers = [eax, 2, 3, 4, CpuLayout.DefaultStackPointer, 6, 7, 8],
        Eip = CpuLayout.CodeBase + 1,
        Eflags = eflags,
        Vector = vector,
        Data = [first, .. new byte[CpuLayout.DataSize - 1]],
    };

    [Fact]
    public void Equal_outcomes_have_no_differences() =>
        Assert.Empty(OutcomeComparer.Differences(_case, Outcome(), Outcome()));

    [Fact]
    public void Undefined_flags_are_ignored_after_completion_but_compared_after_a_fault()
    {
        var withAf = CpuLayout.ForcedFlags | CpuLayout.AF;

        Assert.Empty(OutcomeComparer.Differences(_case, Outcome(), Outcome(eflags: withAf)));
        Assert.Single(OutcomeComparer.Differences(_case, Outcome(vector: 6), Outcome(eflags: withAf, vector: 6)));
    }

    [Fact]
    public void Register_vector_and_data_differences_are_reported()
    {
        var differences = OutcomeComparer.Differences(_case, Outcome(), Outcome(eax: 9, vector: 13, first: 0xFF));

        Assert.Equal(3, differences.Count);
        Assert.Contains(differences, d => d.StartsWith("EAX", StringComparison.Ordinal));
        Assert.Contains(differences, d => d.StartsWith("result", StringComparison.Ordinal));
        Assert.Contains(differences, d => d.StartsWith("data", StringComparison.Ordinal));
    }
}
