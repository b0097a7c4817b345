namespace Qmp.Machine.Tests;

public sealed class MachineRunStateTests : IDisposable
{
    private readonly RecordingObserver _observer = new();
    private Machine? _machine;

    private Machine Start(MachineConfig config)
    {
        _machine = new Machine(config);
        _machine.AddObserver(_observer);
        _machine.Start();
        return _machine;
    }

    public void Dispose() => _machine?.Dispose();

    [Fact]
    public async Task Start_paused_machine_waits_in_prelaunch_until_cont()
    {
        var machine = Start(new MachineConfig { StartPaused = true });
        await machine.InvokeAsync(() => { });
        Assert.Equal(RunState.Prelaunch, machine.RunState);
        Assert.Empty(_observer.Events);
        await machine.ContinueAsync();
        Assert.Equal(RunState.Running, machine.RunState);
        Assert.Equal(["RESUME"], _observer.Events);
    }

    [Fact]
    public async Task Stop_emits_STOP_once_and_is_idempotent()
    {
        var machine = Start(new MachineConfig());
        await machine.StopAsync();
        await machine.StopAsync();
        Assert.Equal(RunState.Paused, machine.RunState);
        Assert.Equal(["RESUME", "STOP"], _observer.Events);
    }

    [Fact]
    public async Task Stop_in_prelaunch_changes_nothing()
    {
        var machine = Start(new MachineConfig { StartPaused = true });
        await machine.StopAsync();
        Assert.Equal(RunState.Prelaunch, machine.RunState);
        Assert.Empty(_observer.Events);
    }

    [Fact]
    public async Task Cont_while_running_emits_nothing()
    {
        var machine = Start(new MachineConfig());
        await machine.ContinueAsync();
        Assert.Equal(["RESUME"], _observer.Events);
    }

    [Fact]
    public async Task Reset_of_a_paused_machine_leaves_it_in_prelaunch()
    {
        var machine = Start(new MachineConfig());
        await machine.StopAsync();
        await machine.ResetAsync(ShutdownCause.HostQmpSystemReset);
        Assert.Equal(RunState.Prelaunch, machine.RunState);
        Assert.Equal("RESET False HostQmpSystemReset", _observer.Events[^1]);
    }

    [Fact]
    public async Task Reset_of_a_running_machine_keeps_it_running()
    {
        var machine = Start(new MachineConfig());
        await machine.ResetAsync(ShutdownCause.HostQmpSystemReset);
        Assert.Equal(RunState.Running, machine.RunState);
    }

    [Fact]
    public async Task Subsystem_reset_raises_no_event()
    {
        var machine = Start(new MachineConfig());
        await machine.ResetAsync(ShutdownCause.SubsystemReset);
        Assert.Equal(["RESUME"], _observer.Events);
    }

    [Fact]
    public async Task Quit_emits_SHUTDOWN_and_requests_exit_even_with_no_shutdown()
    {
        var machine = Start(new MachineConfig { NoShutdown = true });
        await machine.ShutdownAsync(ShutdownCause.HostQmpQuit);
        Assert.Equal(ShutdownCause.HostQmpQuit, await machine.ExitRequested.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("SHUTDOWN False HostQmpQuit", _observer.Events[^1]);
    }

    [Fact]
    public async Task Guest_shutdown_with_no_shutdown_stops_instead_of_exiting()
    {
        var machine = Start(new MachineConfig { NoShutdown = true });
        await machine.ShutdownAsync(ShutdownCause.GuestShutdown);
        Assert.Equal(RunState.Shutdown, machine.RunState);
        Assert.False(machine.ExitRequested.IsCompleted);
        Assert.Equal(["RESUME", "SHUTDOWN True GuestShutdown", "STOP"], _observer.Events);
        var refused = await Assert.ThrowsAsync<MachineOperationException>(() => machine.ContinueAsync());
        Assert.Equal("Resetting the Virtual Machine is required", refused.Message);
        await machine.ResetAsync(ShutdownCause.HostQmpSystemReset);
        Assert.Equal(RunState.Prelaunch, machine.RunState);
        await machine.ContinueAsync();
        Assert.Equal(RunState.Running, machine.RunState);
    }

    [Fact]
    public async Task Guest_shutdown_without_no_shutdown_requests_exit()
    {
        var machine = Start(new MachineConfig());
        await machine.ShutdownAsync(ShutdownCause.GuestShutdown);
        Assert.Equal(ShutdownCause.GuestShutdown, await machine.ExitRequested.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Powerdown_raises_POWERDOWN_and_nothing_else()
    {
        var machine = Start(new MachineConfig());
        await machine.PowerdownAsync();
        Assert.Equal(["RESUME", "POWERDOWN"], _observer.Events);
        Assert.Equal(RunState.Running, machine.RunState);
    }

    [Fact]
    public async Task Events_are_raised_on_the_machine_thread_before_the_request_completes()
    {
        var machine = Start(new MachineConfig { StartPaused = true });
        var machineThread = await machine.InvokeAsync(() => Environment.CurrentManagedThreadId);
        await machine.ContinueAsync();
        Assert.Equal(machineThread, _observer.LastThread);
        Assert.Equal(["RESUME"], _observer.Events);
    }

    [Fact]
    public async Task A_terminated_machine_refuses_work_with_a_clear_error()
    {
        var machine = Start(new MachineConfig());
        await machine.TerminateAsync();
        var e = await Assert.ThrowsAsync<MachineOperationException>(() => machine.StopAsync());
        Assert.Equal("The machine has been shut down", e.Message);
    }
}
