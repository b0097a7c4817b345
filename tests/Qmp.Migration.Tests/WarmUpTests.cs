namespace Qmp.Migration.Tests;

public sealed class WarmUpTests
{
    [Fact]
    public void Warm_up_sends_and_loads_its_scratch_stream_and_cycles_an_empty_graph()
    {
        // Throws if the scratch stream does not load back with the data pages it sent.
        MigrationWarmUp.RunOnce();
    }
}
