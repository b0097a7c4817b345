namespace Qmp.Machine.Tests;

public class RunStateTransitionTests
{
    [Theory]
    [InlineData(RunState.Prelaunch, RunState.Running)]
    [InlineData(RunState.Running, RunState.Paused)]
    [InlineData(RunState.Paused, RunState.Running)]
    [InlineData(RunState.Running, RunState.Shutdown)]
    [InlineData(RunState.Shutdown, RunState.Prelaunch)]
    [InlineData(RunState.InMigrate, RunState.Running)]
    [InlineData(RunState.FinishMigrate, RunState.PostMigrate)]
    [InlineData(RunState.PostMigrate, RunState.Running)]
    public void QEMU_transitions_are_allowed(RunState from, RunState to) => Assert.True(RunStateTransitions.IsAllowed(from, to));

    [Theory]
    [InlineData(RunState.Shutdown, RunState.Running)]
    [InlineData(RunState.Prelaunch, RunState.Paused)]
    [InlineData(RunState.SaveVm, RunState.Paused)]
    [InlineData(RunState.PostMigrate, RunState.Paused)]
    public void Other_transitions_are_refused(RunState from, RunState to) => Assert.False(RunStateTransitions.IsAllowed(from, to));

    [Fact]
    public void Staying_in_a_state_is_always_allowed()
    {
        foreach (var state in Enum.GetValues<RunState>())
            Assert.True(RunStateTransitions.IsAllowed(state, state));
    }

    // softmmu/runstate.c in QEMU 7.2 lists 72 pairs, prelaunch -> inmigrate twice: 71 distinct.
    [Fact]
    public void The_table_has_QEMUs_71_distinct_transitions() => Assert.Equal(71, RunStateTransitions.All.Count());
}
