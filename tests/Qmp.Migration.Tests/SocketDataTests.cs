using System.Net.Sockets;
using Qmp.Migration.Channels;

namespace Qmp.Migration.Tests;

/// <summary>A migration socket's data stream (a blocking duplicate of the socket's descriptor).</summary>
public sealed class SocketDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qmpd-sock-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Bytes_written_on_one_end_arrive_whole_and_in_order_on_the_other()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            var data = new byte[3 << 20];
            new Random(1).NextBytes(data);
            var writer = Task.Run(() =>
            {
                using var stream = MigrationConnection.SocketData(client);
                stream.Write(data);
            });
            var received = new byte[data.Length];
            using (var stream = MigrationConnection.SocketData(server))
                stream.ReadExactly(received);
            await writer;

            Assert.True(data.AsSpan().SequenceEqual(received));
        }
    }

    [Fact]
    public async Task Shutting_the_socket_down_ends_a_read_that_waits()
    {
        var (client, server) = await PairAsync();
        using (client)
        using (server)
        {
            using var stream = MigrationConnection.SocketData(server);
            var reader = Task.Run(() => stream.Read(new byte[16]));
            await Task.Delay(50);
            server.Shutdown(SocketShutdown.Both);

            Assert.Equal(0, await reader.WaitAsync(TimeSpan.FromSeconds(30)));
        }
    }

    [Fact]
    public async Task Writing_to_a_closed_peer_fails_with_an_io_error()
    {
        var (client, server) = await PairAsync();
        using (client)
        {
            server.Dispose();
            using var stream = MigrationConnection.SocketData(client);

            Assert.Throws<IOException>(() =>
            {
                for (var i = 0; i < 64; i++)
                    stream.Write(new byte[1 << 20]);
            });
        }
    }

    // A connected unix socket pair made the way migration makes them (async connect and accept).
    private async Task<(Socket Client, Socket Server)> PairAsync()
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var accept = listener.AcceptAsync();
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return (client, await accept);
    }
}
