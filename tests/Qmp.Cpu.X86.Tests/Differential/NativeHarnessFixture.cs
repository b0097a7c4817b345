namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// Builds the native harness once for every test class in <see cref="NativeHarnessCollection"/>,
/// and runs the full generated case set at most once for the tests that inspect it.
/// </summary>
public sealed class NativeHarnessFixture : IAsyncLifetime
{
    private readonly Lazy<Task<(IReadOnlyList<CpuCase> Cases, IReadOnlyList<CpuOutcome> Outcomes)>> _generated;
    private NativeHarness? _harness;

    public NativeHarnessFixture() => _generated = new(() => RunGeneratedAsync(CancellationToken.None));

    internal NativeHarness Harness => _harness ?? throw new InvalidOperationException("The native harness fixture is not initialised.");

    /// <summary>Every case of <see cref="CaseGenerator.GenerateAll"/> (default seed) with its native outcome.</summary>
    internal Task<(IReadOnlyList<CpuCase> Cases, IReadOnlyList<CpuOutcome> Outcomes)> GeneratedRun => _generated.Value;

    public async Task InitializeAsync() => _harness = await NativeHarness.BuildAsync(CancellationToken.None);

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<(IReadOnlyList<CpuCase>, IReadOnlyList<CpuOutcome>)> RunGeneratedAsync(CancellationToken cancellationToken)
    {
        var cases = new CaseGenerator().GenerateAll();
        return (cases, await Harness.RunAsync(cases, cancellationToken));
    }
}
