using Qmp.Machine;
using Qmp.Schema;

namespace Qmp.Commands.Tests;

public sealed class HumanMonitorTests : IDisposable
{
    private readonly Machine.Machine _machine = new(new MachineConfig { Name = "hmp", StartPaused = true });
    private readonly HumanMonitor _hmp;
    private readonly MiscCommands _misc;

    public HumanMonitorTests()
    {
        _machine.Start();
        _machine.Chardevs.Add(new Chardev("compat_monitor0", () => "unix:/run/q.sock,server=on") { FrontendOpen = true });
        _hmp = new HumanMonitor(_machine, new ControlCommands(_machine), new MachineCommands(_machine), new CharCommands(_machine));
        _misc = new MiscCommands(_machine, _hmp);
    }

    public void Dispose() => _machine.Dispose();

    private Task<string> Run(string line) => _misc.HumanMonitorCommandAsync(new HumanMonitorCommandArguments { CommandLine = line }, CancellationToken.None).AsTask();

    [Fact]
    public async Task Info_status_prints_QEMUs_text_for_each_state()
    {
        Assert.Equal("VM status: paused (prelaunch)\r\n", await Run("info status"));
        await Run("cont");
        Assert.Equal("VM status: running\r\n", await Run("info status"));
        await Run("stop");
        Assert.Equal("VM status: paused\r\n", await Run("info status"));
    }

    [Fact]
    public async Task Info_commands_print_what_the_QMP_twins_return()
    {
        Assert.Equal("hmp\r\n", await Run("info name"));
        Assert.Equal("00000000-0000-0000-0000-000000000000\r\n", await Run("info uuid"));
        Assert.Equal("compat_monitor0: filename=unix:/run/q.sock,server=on\r\n", await Run("info chardev"));
        Assert.Equal($"10.0.0{QmpdVersion.Package}\r\n", await Run("info version"));
    }

    [Fact]
    public async Task Unknown_commands_are_text_not_errors()
    {
        Assert.Equal("unknown command: 'bogus'\r\n", await Run("bogus"));
        Assert.Equal("unknown command: 'info bogus'\r\n", await Run("info bogus"));
        Assert.Equal("", await Run("   "));
    }

    [Fact]
    public async Task Cont_after_a_guest_shutdown_reports_QEMUs_refusal()
    {
        var noShutdown = new Machine.Machine(new MachineConfig { NoShutdown = true });
        noShutdown.Start();
        try
        {
            await noShutdown.ShutdownAsync(Machine.ShutdownCause.GuestShutdown);
            var misc = new MiscCommands(noShutdown, _hmp);
            var error = await Assert.ThrowsAsync<Schema.Runtime.QmpErrorException>(() => misc.ContAsync(CancellationToken.None).AsTask());
            Assert.Equal("Resetting the Virtual Machine is required", error.Message);
        }
        finally
        {
            noShutdown.Dispose();
        }
    }
}
