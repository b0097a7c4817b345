using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Qmp.Machine;
using Qmp.Schema;
using Qmp.Schema.Runtime;
using Qmp.TestSupport;

namespace Qmp.Commands.Tests;

/// <summary>
/// chardev-add with a socket address of type fd: a socket passed with getfd, connected or listening, with the
/// error texts QEMU 7.2 gives (recorded: unknown name, a pipe, a number under a monitor).
/// </summary>
public sealed class ChardevFdTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qmpd-chardev-fd-").FullName;
    private readonly Machine.Machine _machine = new(new MachineConfig { Name = "chardev-fd", StartPaused = true });
    private readonly CharCommands _chars;
    private readonly InMemoryFdStore _store = new();

    public ChardevFdTests()
    {
        _chars = new CharCommands(_machine);
        QmpRequestContext.Current = new QmpRequestContext(_store, () => null);
    }

    public void Dispose()
    {
        QmpRequestContext.Current = null;
        _machine.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Task AddAsync(string id, string fdName, bool? server = null)
    {
        var data = new JsonObject { ["addr"] = new JsonObject { ["type"] = "fd", ["data"] = new JsonObject { ["str"] = fdName } } };
        if (server is { } s)
            data["server"] = s;
        var arguments = new JsonObject { ["id"] = id, ["backend"] = new JsonObject { ["type"] = "socket", ["data"] = data } };
        return _chars.ChardevAddAsync(ChardevAddArguments.FromJson(arguments), CancellationToken.None).AsTask();
    }

    private async Task<string> FilenameAsync(string id) =>
        (await _chars.QueryChardevAsync(CancellationToken.None)).Single(c => c.Label == id).Filename;

    [Fact]
    public async Task Chardev_add_fails_when_the_name_was_not_passed_with_getfd()
    {
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => AddAsync("c1", "nope"));
        Assert.Equal("Failed to add chardev 'c1': File descriptor named 'nope' has not been found", e.Message);
        // QEMU reads a number as a name too while a monitor runs the command.
        e = await Assert.ThrowsAsync<QmpErrorException>(() => AddAsync("c1", "7"));
        Assert.Equal("Failed to add chardev 'c1': File descriptor named '7' has not been found", e.Message);
        Assert.DoesNotContain(await _chars.QueryChardevAsync(CancellationToken.None), c => c.Label == "c1");
    }

    [Fact]
    public async Task Chardev_add_refuses_a_descriptor_that_is_not_a_socket_and_consumes_it()
    {
        var pipe = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        _store.Add("pipe", pipe);
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => AddAsync("c2", "pipe"));
        Assert.Equal("Failed to add chardev 'c2': File descriptor 'pipe' is not a socket", e.Message);
        Assert.Null(_store.Peek("pipe"));
        Assert.True(pipe.IsClosed);
    }

    [Fact]
    public async Task A_connected_descriptor_is_the_chardevs_connection()
    {
        var (a, b) = await SocketPair.CreateAsync(Path.Combine(_dir, "pair.sock"));
        using (a)
        using (b)
        {
            _store.Add("sp", SocketPair.Duplicate(a));
            a.Close();
            await AddAsync("c3", "sp", server: false);
            Assert.Null(_store.Peek("sp"));
            Assert.StartsWith("unix:", await FilenameAsync("c3"));

            var backend = (Machine.Chardevs.Backends.SocketBackend)_machine.Chardevs.Find("c3")!.Backend!;
            Assert.True(backend.Connected);
            backend.Write("hello"u8);
            var buffer = new byte[16];
            var n = await b.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, n));
            await _chars.ChardevRemoveAsync(new ChardevRemoveArguments { Id = "c3" }, CancellationToken.None);
            // The backend owned the descriptor: removing the chardev closes the connection.
            Assert.Equal(0, await b.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(30)));
        }
    }

    [Fact]
    public async Task A_bound_descriptor_with_server_listens_and_serves_a_client()
    {
        var path = Path.Combine(_dir, "listen.sock");
        using var bound = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        bound.Bind(new UnixDomainSocketEndPoint(path));
        // Kept open: .NET removes the socket file when the socket that bound it is disposed.
        _store.Add("ls", SocketPair.Duplicate(bound));
        await AddAsync("c4", "ls", server: true);
        Assert.Equal($"disconnected:unix:{path},server=on", await FilenameAsync("c4"));

        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        var backend = (Machine.Chardevs.Backends.SocketBackend)_machine.Chardevs.Find("c4")!.Backend!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!backend.Connected && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Equal($"unix:{path},server=on", await FilenameAsync("c4"));
        await _chars.ChardevRemoveAsync(new ChardevRemoveArguments { Id = "c4" }, CancellationToken.None);
        // The socket file is the caller's: qmpd did not create it and leaves it.
        Assert.True(File.Exists(path));
    }
}
