using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Qmp.Client;

namespace Qmp.Functional.Tests;

public class TransportTests
{
    [Fact]
    public async Task Tcp_monitor_serves_QMP_on_loopback()
    {
        var port = Qmpd.FreeTcpPort();
        await using var qmpd = Qmpd.Start(["-qmp", $"tcp:127.0.0.1:{port},server=on,wait=off"]);
        var client = await ConnectTcpWithRetryAsync(port);
        await using (client)
        {
            await client.NegotiateAsync();
            var chardevs = await client.ExecuteListAsync<Qmp.Schema.ChardevInfo>("query-chardev");
            Assert.StartsWith($"tcp:127.0.0.1:{port},server=on <-> 127.0.0.1:", chardevs[0].Filename, StringComparison.Ordinal);
            await client.ExecuteAsync("quit");
        }
        Assert.Equal(0, await qmpd.WaitForExitAsync());
    }

    [Fact]
    public async Task One_client_at_a_time_the_next_is_greeted_when_the_first_leaves()
    {
        var dir = Qmpd.TempDir();
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start(["-qmp", $"unix:{socketPath},server=on,wait=off"]);
        var first = new RawQmpConnection(await Qmpd.ConnectUnixAsync(socketPath));
        Assert.StartsWith("{\"QMP\"", await first.ReadLineAsync(), StringComparison.Ordinal);
        using var second = new RawQmpConnection(await Qmpd.ConnectUnixAsync(socketPath));
        var greeting = second.ReadLineAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(500);
        Assert.False(greeting.IsCompleted, "the second client waits in the backlog");
        first.Dispose();
        Assert.StartsWith("{\"QMP\"", await greeting, StringComparison.Ordinal);
        await second.SendAsync("""{"execute":"qmp_capabilities"}{"execute":"quit"}""");
        Assert.Equal("""{"return": {}}""", await second.ReadLineAsync());
    }

    [Fact]
    public async Task Half_closed_client_gets_every_answer_then_the_connection_closes()
    {
        var dir = Qmpd.TempDir();
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start(["-qmp", $"unix:{socketPath},server=on,wait=off"]);
        using var connection = new RawQmpConnection(await Qmpd.ConnectUnixAsync(socketPath));
        await connection.ReadLineAsync();
        await connection.SendAsync("""{"execute":"qmp_capabilities"}{"execute":"query-status","id":1}{"execute":"query-name","id":2}""");
        connection.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal("""{"return": {}}""", await connection.ReadLineAsync());
        Assert.Equal("""{"return": {"status": "running", "running": true}, "id": 1}""", await connection.ReadLineAsync());
        Assert.Equal("""{"return": {}, "id": 2}""", await connection.ReadLineAsync());
        Assert.True(await connection.ClosedAsync());
        // The monitor is free for the next client.
        await using var next = await QmpClient.ConnectUnixAsync(socketPath);
        await next.NegotiateAsync();
        await next.ExecuteAsync("quit");
    }

    [Fact]
    public async Task A_client_sending_garbage_and_never_reading_hurts_neither_the_machine_nor_other_monitors()
    {
        var dir = Qmpd.TempDir();
        var socketPath = Path.Combine(dir, "qmp.sock");
        var port = Qmpd.FreeTcpPort();
        await using var qmpd = Qmpd.Start(["-qmp", $"unix:{socketPath},server=on,wait=off", "-qmp", $"tcp:127.0.0.1:{port},server=on,wait=off"]);
        var noisy = new RawQmpConnection(await Qmpd.ConnectUnixAsync(socketPath));
        await noisy.ReadLineAsync();
        // Junk until the kernel buffers are full: qmpd answers every bit of it with a parse error
        // that nobody reads, so both sides end up blocked, as with QEMU.
        var junk = new byte[64 * 1024];
        new Random(42).NextBytes(junk);
        using (var flooding = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
        {
            try
            {
                while (true)
                    await noisy.Socket.SendAsync(junk, SocketFlags.None, flooding.Token);
            }
            catch (OperationCanceledException)
            {
                // The server stopped reading: the flood is as big as it gets.
            }
        }
        // Meanwhile the machine and the other monitor carry on.
        await using (var other = await ConnectTcpWithRetryAsync(port))
        {
            await other.NegotiateAsync();
            await other.ExecuteAsync("stop");
            Assert.Equal(Qmp.Schema.RunState.Paused, (await other.ExecuteAsync<Qmp.Schema.StatusInfo>("query-status")).Status);
        }
        // Once the noisy client goes away, its monitor serves the next one.
        noisy.Dispose();
        await using var client = await QmpClient.ConnectAsync(new NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true))
            .WaitAsync(TimeSpan.FromSeconds(20));
        await client.NegotiateAsync();
        await client.ExecuteAsync("quit");
        Assert.Equal(0, await qmpd.WaitForExitAsync());
    }

    [Fact]
    public async Task Stdio_monitor_speaks_QMP_without_offering_oob()
    {
        var start = new ProcessStartInfo(Qmpd.Binary) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-qmp", "stdio", "-S" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var greeting = await process.StandardOutput.ReadLineAsync();
        Assert.EndsWith("\"capabilities\": []}}", greeting, StringComparison.Ordinal);
        await process.StandardInput.WriteAsync("""{"execute":"qmp_capabilities"}{"execute":"query-status"}{"execute":"quit"}""");
        await process.StandardInput.FlushAsync();
        Assert.Equal("""{"return": {}}""", await process.StandardOutput.ReadLineAsync());
        Assert.Equal("""{"return": {"status": "prelaunch", "running": false}}""", await process.StandardOutput.ReadLineAsync());
        Assert.Contains("SHUTDOWN", await process.StandardOutput.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("""{"return": {}}""", await process.StandardOutput.ReadLineAsync());
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task Inherited_listening_descriptor_is_served_like_libvirt_passes_it()
    {
        var dir = Qmpd.TempDir();
        var socketPath = Path.Combine(dir, "qmp.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(4);
        var fd = (int)listener.Handle;
        // .NET opens sockets close-on-exec; clear the flag so the child inherits this one.
        Assert.Equal(0, Fcntl(fd, 2 /* F_SETFD */, 0));
        await using var qmpd = Qmpd.Start(["-chardev", $"socket,id=charmonitor,fd={fd},server=on,wait=off", "-mon", "chardev=charmonitor,mode=control"]);
        _ = Fcntl(fd, 2, 1);
        await using var client = await QmpClient.ConnectUnixAsync(socketPath);
        await client.NegotiateAsync();
        var chardevs = await client.ExecuteListAsync<Qmp.Schema.ChardevInfo>("query-chardev");
        Assert.Equal("charmonitor", chardevs[0].Label);
        await client.ExecuteAsync("quit");
        Assert.Equal(0, await qmpd.WaitForExitAsync());
    }

    [Fact]
    public async Task Config_file_runs_several_machines_each_with_its_own_monitor_and_events()
    {
        var dir = Qmpd.TempDir();
        var config = Path.Combine(dir, "qmpd.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "pidfile": "{{dir}}/qmpd.pid",
              "machines": [
                { "args": ["-name", "vm1", "-qmp", "unix:{{dir}}/vm1.sock,server=on,wait=off"] },
                { "args": ["-name", "vm2", "-S", "-qmp", "unix:{{dir}}/vm2.sock,server=on,wait=off"] }
              ]
            }
            """);
        await using var qmpd = Qmpd.Start(["--config", config]);
        await using var vm1 = await ConnectUnixWithRetryAsync($"{dir}/vm1.sock");
        await using var vm2 = await ConnectUnixWithRetryAsync($"{dir}/vm2.sock");
        await vm1.NegotiateAsync();
        await vm2.NegotiateAsync();
        Assert.Equal("vm1", (await vm1.ExecuteAsync<Qmp.Schema.NameInfo>("query-name")).Name);
        Assert.Equal("vm2", (await vm2.ExecuteAsync<Qmp.Schema.NameInfo>("query-name")).Name);
        Assert.Equal(Qmp.Schema.RunState.Prelaunch, (await vm2.ExecuteAsync<Qmp.Schema.StatusInfo>("query-status")).Status);
        await vm1.ExecuteAsync("stop");
        Assert.Equal(Qmp.Schema.RunState.Paused, (await vm1.ExecuteAsync<Qmp.Schema.StatusInfo>("query-status")).Status);
        Assert.Equal(Qmp.Schema.RunState.Prelaunch, (await vm2.ExecuteAsync<Qmp.Schema.StatusInfo>("query-status")).Status);
        // vm2 saw none of vm1's events: its next event is its own RESUME.
        var next = vm2.EventsAsync().GetAsyncEnumerator();
        await vm2.ExecuteAsync("cont");
        Assert.True(await next.MoveNextAsync());
        Assert.Equal("RESUME", next.Current.Name);
        // quit on one machine ends the daemon, as quit ends QEMU.
        await vm1.ExecuteAsync("quit");
        Assert.Equal(0, await qmpd.WaitForExitAsync());
    }

    [Fact]
    public async Task Default_machine_listens_on_qmp_sock_and_port_4444()
    {
        var dir = Qmpd.TempDir();
        await using var qmpd = Qmpd.Start([], workingDirectory: dir);
        await using var unix = await ConnectUnixWithRetryAsync(Path.Combine(dir, "qmp.sock"));
        await unix.NegotiateAsync();
        Assert.Equal("demo", (await unix.ExecuteAsync<Qmp.Schema.NameInfo>("query-name")).Name);
        await unix.DisposeAsync();
        await using var tcp = await ConnectTcpWithRetryAsync(4444);
        await tcp.NegotiateAsync();
        await tcp.ExecuteAsync("quit");
        Assert.Equal(0, await qmpd.WaitForExitAsync());
        Assert.Contains("No options given: starting the default machine", qmpd.Output, StringComparison.Ordinal);
    }

    private static async Task<QmpClient> ConnectUnixWithRetryAsync(string path) =>
        await QmpClient.ConnectAsync(new NetworkStream(await Qmpd.ConnectUnixAsync(path), ownsSocket: true));

    private static async Task<QmpClient> ConnectTcpWithRetryAsync(int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await QmpClient.ConnectTcpAsync("127.0.0.1", port);
            }
            catch (SocketException) when (attempt < 200)
            {
                await Task.Delay(50);
            }
        }
    }

    [DllImport("libc", EntryPoint = "fcntl")]
    private static extern int Fcntl(int fd, int command, int argument);
}
