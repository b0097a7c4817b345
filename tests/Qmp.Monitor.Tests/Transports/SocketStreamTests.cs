using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Qmp.Monitor.Transports;
using Qmp.Schema;

namespace Qmp.Monitor.Tests.Transports;

/// <summary>The socket stream a session reads on its own thread: blocking reads, writes that never block.</summary>
public sealed class SocketStreamTests : IDisposable
{
    private readonly Socket _server;
    private readonly Socket _client;

    public SocketStreamTests()
    {
        var path = Path.Combine(Path.GetTempPath(), $"qmpd-sock-{Guid.NewGuid():N}");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        _client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _client.Connect(new UnixDomainSocketEndPoint(path));
        _server = listener.Accept();
        File.Delete(path);
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Fact]
    public async Task A_read_waits_for_data_and_returns_what_arrived()
    {
        using var stream = new SocketStream(_server);
        var buffer = new byte[64];
        var read = Task.Run(() => stream.Read(buffer));
        await Task.Delay(50);
        Assert.False(read.IsCompleted);

        _client.Send(Encoding.ASCII.GetBytes("hello"));
        Assert.Equal(5, await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, 5));
    }

    [Fact]
    public async Task A_read_returns_zero_when_the_peer_closes()
    {
        using var stream = new SocketStream(_server);
        var read = Task.Run(() => stream.Read(new byte[64]));
        _client.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await read.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Disposing_ends_a_read_blocked_waiting_for_data()
    {
        var stream = new SocketStream(_server);
        var read = Task.Run(() => stream.Read(new byte[64]));
        await Task.Delay(50);
        stream.Dispose();
        Assert.Equal(0, await read.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_client_that_stops_reading_stalls_the_write_without_blocking_the_writer()
    {
        using var stream = new SocketStream(_server);
        var data = new byte[16 << 20];
        Random.Shared.NextBytes(data);

        var write = stream.WriteAsync(data);
        // The call returned although the socket cannot take 16 MiB while nobody reads.
        Assert.False(write.IsCompleted);

        var received = new MemoryStream();
        var buffer = new byte[1 << 16];
        while (received.Length < data.Length)
            received.Write(buffer, 0, await _client.ReceiveAsync(buffer));
        await write.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(data, received.ToArray());
    }

    [Fact]
    public async Task Writing_to_a_closed_peer_fails_with_an_io_error()
    {
        using var stream = new SocketStream(_server);
        _client.Close();
        await Assert.ThrowsAsync<IOException>(async () =>
        {
            for (var i = 0; i < 100; i++)
                await stream.WriteAsync(new byte[4096]);
        });
    }

    [Fact]
    public async Task A_session_over_a_socket_answers_and_ends_when_the_client_leaves()
    {
        var commands = new TestCommands();
        var version = new VersionInfo { Qemu = new VersionTriple { Major = 10, Minor = 0, Micro = 0 }, Package = "test" };
        var session = new QmpSession(new SocketStream(_server), commands.Table(), new QmpMonitorOptions(), version, NullLogger.Instance, "test");
        var run = session.RunAsync(CancellationToken.None);
        using var client = new NetworkStream(_client);
        using var reader = new StreamReader(client, Encoding.ASCII);

        Assert.StartsWith("{\"QMP\":", await reader.ReadLineAsync());
        await client.WriteAsync(Encoding.ASCII.GetBytes("{\"execute\":\"qmp_capabilities\"}{\"execute\":\"qmp_capabilities\",\"id\":1}"));
        Assert.Equal("{\"return\": {}}", await reader.ReadLineAsync());
        Assert.Equal("{\"id\": 1, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation is already complete, command ignored\"}}", await reader.ReadLineAsync());

        _client.Shutdown(SocketShutdown.Both);
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Stopping_the_session_ends_its_reader_while_the_client_stays_connected()
    {
        var commands = new TestCommands();
        var version = new VersionInfo { Qemu = new VersionTriple { Major = 10, Minor = 0, Micro = 0 }, Package = "test" };
        var session = new QmpSession(new SocketStream(_server), commands.Table(), new QmpMonitorOptions(), version, NullLogger.Instance, "test");
        using var stop = new CancellationTokenSource();
        var run = session.RunAsync(stop.Token);
        var greeting = new byte[256];
        Assert.True(await _client.ReceiveAsync(greeting) > 0);

        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
