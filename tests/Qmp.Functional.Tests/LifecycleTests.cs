using System.Net.Sockets;
using Qmp.Client;

namespace Qmp.Functional.Tests;

public class LifecycleTests
{
    [Fact]
    public async Task Sigterm_emits_SHUTDOWN_host_signal_and_exits_cleanly()
    {
        var dir = Qmpd.TempDir();
        var socketPath = Path.Combine(dir, "qmp.sock");
        var pidFile = Path.Combine(dir, "qmpd.pid");
        await using var qmpd = Qmpd.Start(["-qmp", $"unix:{socketPath},server=on,wait=off", "-pidfile", pidFile]);
        await using var client = await QmpClient.ConnectAsync(new NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        Assert.Equal($"{qmpd.Process.Id}\n", await File.ReadAllTextAsync(pidFile));
        var shutdown = client.WaitEventAsync("SHUTDOWN");
        qmpd.Signal(15);
        var e = await shutdown.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal("""{"guest":false,"reason":"host-signal"}""", e.Data!.ToJsonString());
        Assert.Equal(0, await qmpd.WaitForExitAsync());
        Assert.False(File.Exists(socketPath), "the socket file must be unlinked");
        Assert.False(File.Exists(pidFile), "the pidfile must be removed");
    }

    [Theory]
    [InlineData("-M", "none")]
    [InlineData("-M", "pc")]
    public async Task A_client_that_connects_at_once_finds_the_guest_running_and_no_start_up_RESUME(string option, string machine)
    {
        // QEMU serves its monitors only after the guest started, so no client ever sees that RESUME.
        for (var round = 0; round < 3; round++)
        {
            var dir = Qmpd.TempDir();
            var socketPath = Path.Combine(dir, "qmp.sock");
            await using var qmpd = Qmpd.Start(["-qmp", $"unix:{socketPath},server=on,wait=off", option, machine]);
            using var connection = new RawQmpConnection(await Qmpd.ConnectUnixAsync(socketPath));
            await connection.ReadLineAsync();
            await connection.SendAsync("""{"execute":"qmp_capabilities"}{"execute":"query-status"}""");
            Assert.Equal("""{"return": {}}""", await connection.ReadLineAsync());
            Assert.Equal("""{"return": {"status": "running", "running": true}}""", await connection.ReadLineAsync());
            await connection.SendAsync("""{"execute":"quit"}""");
            Assert.DoesNotContain("RESUME", await connection.ReadLineAsync());
        }
    }

    [Fact]
    public async Task Quit_through_the_harness_ends_the_process_with_exit_code_0()
    {
        await using var machine = new QemuMachine(Qmpd.Binary, ["-S", "-name", "harness"]);
        await machine.LaunchAsync();
        var status = await machine.Qmp.ExecuteAsync<Qmp.Schema.StatusInfo>("query-status");
        Assert.Equal(Qmp.Schema.RunState.Prelaunch, status.Status);
        var pid = machine.Pid;
        await machine.ShutdownAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, machine.ExitCode);
        Assert.NotNull(pid);
    }

    [Fact]
    public async Task Harness_wait_expects_the_process_to_exit_by_itself()
    {
        await using var machine = new QemuMachine(Qmpd.Binary, ["-name", "waiter"]);
        await machine.LaunchAsync();
        var events = machine.Qmp.WaitEventAsync("SHUTDOWN");
        await machine.Qmp.ExecuteAsync("human-monitor-command", new() { ["command-line"] = "quit" });
        await events.WaitAsync(TimeSpan.FromSeconds(10));
        await machine.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, machine.ExitCode);
    }

    [Fact]
    public async Task Harness_shutdown_of_a_hung_emulator_kills_it_and_throws_with_the_cause()
    {
        await using var machine = new QemuMachine(Qmpd.Binary, ["-name", "hung"]);
        await machine.LaunchAsync();
        machine.Signal(19); // SIGSTOP: quit is never answered
        var error = await Assert.ThrowsAsync<AbnormalShutdownException>(() => machine.ShutdownAsync(TimeSpan.FromSeconds(1)));
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.False(machine.IsRunning, "the fallback kills the process");
        await machine.ShutdownAsync(); // a second call does nothing
    }

    [Fact]
    public async Task Harness_launch_of_a_process_that_never_connects_times_out_and_kills_it()
    {
        // A process that never speaks QMP stands in for a hung emulator.
        await using var machine = new QemuMachine("/bin/sh", [], prefixArgs: ["-c", "exec sleep 60", "sh"]);
        var launch = await Assert.ThrowsAsync<VmLaunchException>(() => machine.LaunchAsync(TimeSpan.FromSeconds(2)));
        Assert.Contains("launch failed", launch.Message, StringComparison.Ordinal);
        Assert.False(machine.IsRunning);
    }

    [Fact]
    public async Task Unknown_option_fails_with_a_one_line_error_naming_it()
    {
        await using var qmpd = Qmpd.Start(["-frobnicate"]);
        Assert.Equal(1, await qmpd.WaitForExitAsync());
        Assert.Equal("qmpd: -frobnicate: invalid option\n", qmpd.Output);
    }

    [Theory]
    [InlineData(new[] { "-m", "lots" }, "qmpd: -m: invalid ram size: lots\n")]
    [InlineData(new[] { "-machine", "q35" }, "qmpd: -machine: unsupported machine type 'q35'\nUse -machine help to list supported machines\n")]
    [InlineData(new[] { "-mon", "chardev=nope,mode=control" }, "qmpd: -mon: chardev \"nope\" not found\n")]
    [InlineData(new[] { "-uuid", "xyz" }, "qmpd: -uuid: Fail to parse UUID string. Wrong format: xyz\n")]
    [InlineData(new[] { "-name" }, "qmpd: -name: requires an argument\n")]
    public async Task Malformed_options_fail_with_exit_code_1(string[] args, string message)
    {
        await using var qmpd = Qmpd.Start(args);
        Assert.Equal(1, await qmpd.WaitForExitAsync());
        Assert.Equal(message, qmpd.Output);
    }

    [Fact]
    public async Task Daemonize_returns_once_the_monitor_listens_and_the_pidfile_exists()
    {
        var dir = Qmpd.TempDir();
        var socketPath = Path.Combine(dir, "qmp.sock");
        var pidFile = Path.Combine(dir, "qmpd.pid");
        await using var parent = Qmpd.Start(["-daemonize", "-pidfile", pidFile, "-qmp", $"unix:{socketPath},server=on,wait=off"]);
        Assert.Equal(0, await parent.WaitForExitAsync());
        // No retry needed: the parent only exits when the child is ready.
        Assert.True(File.Exists(pidFile));
        var pid = int.Parse((await File.ReadAllTextAsync(pidFile)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(parent.Process.Id, pid);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        await using var client = await QmpClient.ConnectAsync(new NetworkStream(socket, ownsSocket: true));
        await client.NegotiateAsync();
        await client.ExecuteAsync("quit");
        for (var i = 0; i < 200 && Directory.Exists($"/proc/{pid}"); i++)
            await Task.Delay(50);
        Assert.False(Directory.Exists($"/proc/{pid}"), "the daemon exits after quit");
        Assert.False(File.Exists(pidFile), "the daemon removes its pidfile at exit");
        Assert.False(File.Exists(socketPath), "the daemon unlinks its socket at exit");
    }

    [Fact]
    public async Task Daemonize_reports_a_start_up_failure_through_the_parent()
    {
        var dir = Qmpd.TempDir();
        await using var parent = Qmpd.Start(["-daemonize", "-qmp", $"unix:{dir}/missing-dir/qmp.sock,server=on,wait=off"]);
        Assert.Equal(1, await parent.WaitForExitAsync());
        Assert.StartsWith("qmpd: -chardev compat_monitor0:", parent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_monitor_that_cannot_listen_fails_start_up_and_leaves_no_socket_behind()
    {
        var dir = Qmpd.TempDir();
        var first = Path.Combine(dir, "first.sock");
        await using var qmpd = Qmpd.Start(["-qmp", $"unix:{first},server=on,wait=off", "-qmp", $"unix:{dir}/missing-dir/second.sock,server=on,wait=off"]);
        Assert.Equal(1, await qmpd.WaitForExitAsync());
        Assert.Contains("-chardev compat_monitor1:", qmpd.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(first), "the monitor that did start must be rolled back");
    }

    [Fact]
    public async Task Daemonized_child_keeps_none_of_the_callers_pipes()
    {
        var dir = Qmpd.TempDir();
        var socketPath = Path.Combine(dir, "qmp.sock");
        // The caller's stdout is a pipe read to its end: it ends only if the child let go of it
        // (libvirt hangs otherwise).
        await using var parent = Qmpd.Start(["-daemonize", "-qmp", $"unix:{socketPath},server=on,wait=off"]);
        Assert.Equal(0, await parent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        await using var client = await QmpClient.ConnectUnixAsync(socketPath);
        await client.NegotiateAsync();
        await client.ExecuteAsync("quit");
    }

    [Fact]
    public async Task Wait_on_blocks_startup_until_a_client_connects()
    {
        var dir = Qmpd.TempDir();
        var socketPath = Path.Combine(dir, "qmp.sock");
        var pidFile = Path.Combine(dir, "qmpd.pid");
        await using var qmpd = Qmpd.Start(["-qmp", $"unix:{socketPath},server=on", "-pidfile", pidFile]);
        for (var i = 0; i < 200 && !File.Exists(socketPath); i++)
            await Task.Delay(50);
        await Task.Delay(500);
        Assert.False(File.Exists(pidFile), "start-up must wait for the first client");
        using var socket = await Qmpd.ConnectUnixAsync(socketPath);
        await using var client = await QmpClient.ConnectAsync(new NetworkStream(socket, ownsSocket: false));
        await client.NegotiateAsync();
        for (var i = 0; i < 100 && !File.Exists(pidFile); i++)
            await Task.Delay(50);
        Assert.True(File.Exists(pidFile), "start-up completes once the first client is there");
        await client.ExecuteAsync("quit");
        Assert.Equal(0, await qmpd.WaitForExitAsync());
    }
}
