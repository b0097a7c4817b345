using System.Net.Sockets;
using System.Text;
using Qmp.Machine.Chardevs.Backends;

namespace Qmp.Machine.Tests.Chardevs;

public sealed class SocketBackendTests
{
    [Fact]
    public async Task Server_passes_client_input_only_as_fast_as_the_frontend_takes_it()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("qmpd-sock-").FullName, "s.sock");
        using var backend = SocketBackend.Listen(path, null, 0, wait: false);
        var received = new StringBuilder();
        var room = 3;
        var delivered = new TaskCompletionSource();
        backend.CanReceive = () => room;
        backend.Received = data =>
        {
            lock (received)
            {
                received.Append(Encoding.ASCII.GetString(data));
                if (received.Length == 10)
                    delivered.TrySetResult();
            }
        };
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        await client.SendAsync("0123456789"u8.ToArray());
        await delivered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("0123456789", received.ToString());
    }

    [Fact]
    public async Task Output_reaches_the_connected_client_and_is_dropped_without_one()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("qmpd-sock-").FullName, "s.sock");
        using var backend = SocketBackend.Listen(path, null, 0, wait: false);
        backend.Write("lost"u8);
        Assert.StartsWith("disconnected:unix:", backend.Filename, StringComparison.Ordinal);
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!backend.Connected && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        backend.Write("hello"u8);
        var buffer = new byte[16];
        var n = await client.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, n));
        Assert.Equal($"unix:{path},server=on", backend.Filename);
    }

    [Fact]
    public void Client_mode_refuses_an_address_nobody_listens_on()
    {
        var path = Path.Combine(Path.GetTempPath(), $"qmpd-nobody-{Guid.NewGuid():N}.sock");
        var e = Assert.Throws<MachineOperationException>(() => SocketBackend.Connect(path, null, 0));
        Assert.Equal($"Failed to connect to '{path}': No such file or directory", e.Message);
    }
}
