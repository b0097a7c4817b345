using Qmp.Machine;

namespace Qmp.Migration.Tests;

public sealed class RunStateTests
{
    [Theory]
    [InlineData(false, RunState.Running)]
    [InlineData(true, RunState.Paused)]
    public async Task A_failed_switchover_gives_the_guest_its_run_state_back(bool stopFirst, RunState expected)
    {
        using var machine = TestMachines.Create(TestMachines.Config(), dirtier: true);
        machine.Start();
        await TestMachines.WaitForAsync(() => machine.RunState == RunState.Running);
        if (stopFirst)
            await machine.StopAsync();

        var previous = await machine.EnterFinishMigrateAsync();
        Assert.Equal(RunState.FinishMigrate, machine.RunState);
        await machine.LeaveFinishMigrateAsync(completed: false, previous);

        Assert.Equal(expected, machine.RunState);
    }

    [Fact]
    public async Task A_guest_that_never_ran_ends_postmigrate_and_cont_refuses_until_migration_is_finalized()
    {
        using var machine = TestMachines.Create(TestMachines.Config(startPaused: true));
        machine.Start();
        var previous = await machine.EnterFinishMigrateAsync();
        Assert.Equal(RunState.Prelaunch, previous);
        var e = await Assert.ThrowsAsync<MachineOperationException>(() => machine.ContinueAsync());
        Assert.Equal("Migration is not finalized yet", e.Message);

        await machine.LeaveFinishMigrateAsync(completed: true, previous);
        Assert.Equal(RunState.PostMigrate, machine.RunState);
        await machine.ContinueAsync();
        Assert.Equal(RunState.Running, machine.RunState);
    }

    [Fact]
    public async Task Cont_during_an_incoming_migration_only_asks_for_autostart()
    {
        using var machine = TestMachines.Create(TestMachines.Config(startPaused: true));
        machine.EnterIncomingMigration();
        machine.Start();
        Assert.False(machine.Autostart);
        await machine.ContinueAsync();
        Assert.True(machine.Autostart);
        Assert.Equal(RunState.InMigrate, machine.RunState);
    }
}
