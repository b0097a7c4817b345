using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>Runs the whole generated set natively: the harness must survive it and the cases must do what they aim for.</summary>
[Collection(NativeHarnessCollection.Name)]
public sealed class GeneratedCaseTests(NativeHarnessFixture fixture)
{
    [Fact]
    public async Task Every_generated_case_runs_natively_and_ends_in_its_code_or_at_an_intended_exception()
    {
        var (cases, outcomes) = await fixture.GeneratedRun;

        Assert.Equal(cases.Count, outcomes.Count);
        var problems = new List<string>();
        foreach (var (c, outcome) in cases.Zip(outcomes))
        {
            var problem = Check(c, outcome);
            if (problem is not null)
                problems.Add($"{problem}{Environment.NewLine}{CaseFormatter.Describe(c, outcome)}");
        }

        Assert.True(problems.Count == 0, $"{problems.Count} of {cases.Count} cases misbehaved:{Environment.NewLine}{string.Join(Environment.NewLine, problems.Take(8))}");
    }

    [Fact]
    public async Task Generated_cases_reach_the_exceptions_and_paths_they_aim_for()
    {
        var (cases, outcomes) = await fixture.GeneratedRun;
        var runs = cases.Zip(outcomes).ToList();

        bool Any(Func<CpuCase, bool> which, Func<CpuOutcome, bool> what) => runs.Any(r => which(r.First) && what(r.Second));
        static bool Family(CpuCase c, FormFamily family) => FormCatalog.FamilyOf(c.Form) == family;
        static bool Is(CpuCase c, Mnemonic mnemonic) => c.Form.Mnemonic() == mnemonic;

        Assert.True(Any(c => Is(c, Mnemonic.Div), o => o.Vector == CpuLayout.DivideError), "DIV never raised #DE");
        Assert.True(Any(c => Is(c, Mnemonic.Div), o => o.Vector is null), "DIV never completed");
        Assert.True(Any(c => Is(c, Mnemonic.Idiv), o => o.Vector == CpuLayout.DivideError), "IDIV never raised #DE");
        Assert.True(Any(c => Is(c, Mnemonic.Idiv), o => o.Vector is null), "IDIV never completed");
        Assert.True(Any(c => Is(c, Mnemonic.Aam), o => o.Vector == CpuLayout.DivideError), "AAM 0 never raised #DE");
        Assert.True(Any(c => Is(c, Mnemonic.Bound), o => o.Vector == CpuLayout.BoundRange), "BOUND never raised #BR");
        Assert.True(Any(c => Is(c, Mnemonic.Bound), o => o.Vector is null), "BOUND never passed");
        Assert.True(Any(c => Is(c, Mnemonic.Into), o => o.Vector == CpuLayout.Overflow), "INTO never raised #OF");
        Assert.True(Any(c => Is(c, Mnemonic.Into), o => o.Vector is null), "INTO never fell through");
        Assert.True(Any(c => Is(c, Mnemonic.Int3), o => o.Vector == CpuLayout.Breakpoint), "INT3 never raised #BP");
        Assert.True(Any(c => Is(c, Mnemonic.Int1), o => o.Vector == CpuLayout.DebugTrap), "INT1 never raised #DB");
        Assert.True(Any(c => Is(c, Mnemonic.Ud2), o => o.Vector == CpuLayout.InvalidOpcode), "UD2 never raised #UD");
        Assert.True(Any(c => c.Name.EndsWith("lock-ud", StringComparison.Ordinal), o => o.Vector == CpuLayout.InvalidOpcode), "LOCK on a register never raised #UD");
        Assert.True(Any(c => c.Name.Contains(" pf", StringComparison.Ordinal), o => o.Vector == CpuLayout.PageFault), "no access outside the window faulted");
        Assert.True(Any(c => c.Name.Contains("runaway", StringComparison.Ordinal), o => o.Vector == CpuLayout.PageFault), "no runaway REP string faulted");
        Assert.True(Any(c => Family(c, FormFamily.String) && c.Name.Contains("rep", StringComparison.Ordinal),
            o => o.Vector is null && o.Registers[CpuLayout.Ecx] == 0), "no REP string ran to ECX = 0");
        Assert.True(Any(c => Family(c, FormFamily.String) && c.Name.Contains("repe", StringComparison.Ordinal),
            o => o.Vector is null && o.Registers[CpuLayout.Ecx] != 0), "no REPE string stopped early");
        Assert.True(Any(c => Is(c, Mnemonic.Bsf), o => o.Vector is null && (o.Eflags & CpuLayout.ZF) != 0), "BSF never saw a zero source");

        // The filler after a branch adds 1 to EDI per instruction executed, so EDI shows the path taken.
        static uint EdiSteps(CpuCase c, CpuOutcome o) => o.Registers[CpuLayout.Edi] - c.Registers[CpuLayout.Edi];
        var backward = runs.Where(r => r.First.Name.Contains("backward", StringComparison.Ordinal) && r.Second.Vector is null).ToList();
        Assert.Contains(backward, r => EdiSteps(r.First, r.Second) > 3);
        var jcc = runs.Where(r => r.First.Form.IsJccShortOrNear() && !r.First.Name.Contains("to-next", StringComparison.Ordinal)).ToList();
        Assert.Contains(jcc, r => EdiSteps(r.First, r.Second) == 0);
        Assert.Contains(jcc, r => EdiSteps(r.First, r.Second) != 0);
    }

    [Fact]
    public async Task Harness_gives_the_same_outcome_when_a_case_runs_again()
    {
        var (cases, outcomes) = await fixture.GeneratedRun;
        var sample = Enumerable.Range(0, cases.Count).Where(i => i % 7 == 0).ToList();

        var again = await fixture.Harness.RunAsync([.. sample.Select(i => cases[i])], CancellationToken.None);

        var different = sample.Zip(again)
            .Where(p => !Same(outcomes[p.First], p.Second))
            .Select(p => CaseFormatter.Describe(cases[p.First], outcomes[p.First]) + "  second run: " + CaseFormatter.FormatRegisters(p.Second.Registers))
            .ToList();
        Assert.True(different.Count == 0, $"{different.Count} outcomes changed between runs:{Environment.NewLine}{string.Join(Environment.NewLine, different.Take(5))}");
    }

    private static bool Same(CpuOutcome a, CpuOutcome b) =>
        a.Registers.SequenceEqual(b.Registers) && a.Eip == b.Eip && a.Eflags == b.Eflags && a.Vector == b.Vector
        && a.ErrorCode == b.ErrorCode && a.Cr2 == b.Cr2 && a.Data.AsSpan().SequenceEqual(b.Data);

    /// <summary>Null when the outcome is plausible for the case, otherwise what is wrong.</summary>
    private static string? Check(CpuCase c, CpuOutcome outcome)
    {
        var end = CpuLayout.CodeBase + (uint)c.Code.Length;
        if (outcome.TimedOut)
            return "timed out";
        if ((outcome.Eflags & (CpuLayout.TF | 0x0004_4000u)) != 0)
            return "TF, NT or AC ended up set";
        if (outcome.Vector is null)
            return outcome.Eip == end ? null : $"completed at {outcome.Eip:X8}, not at the end of the code {end:X8}";
        if (outcome.Eip < CpuLayout.CodeBase || outcome.Eip > end)
            return $"exception at {outcome.Eip:X8}, outside the code";

        var mnemonic = c.Form.Mnemonic();
        var intended = outcome.Vector switch
        {
            CpuLayout.DivideError => mnemonic is Mnemonic.Div or Mnemonic.Idiv or Mnemonic.Aam,
            CpuLayout.DebugTrap => mnemonic == Mnemonic.Int1,
            CpuLayout.Breakpoint => mnemonic == Mnemonic.Int3,
            CpuLayout.Overflow => mnemonic == Mnemonic.Into,
            CpuLayout.BoundRange => mnemonic == Mnemonic.Bound,
            CpuLayout.InvalidOpcode => mnemonic is Mnemonic.Ud0 or Mnemonic.Ud1 or Mnemonic.Ud2 || c.Name.EndsWith("lock-ud", StringComparison.Ordinal),
            CpuLayout.PageFault => c.Name.Contains(" pf", StringComparison.Ordinal) || c.Name.Contains("runaway", StringComparison.Ordinal),
            _ => false,
        };
        return intended ? null : $"unintended exception {CaseFormatter.FormatVector(outcome)}";
    }
}
