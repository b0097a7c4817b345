using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Qmp.Machine.Sockets;
using Qmp.Migration.Channels;

namespace Qmp.Migration.Tests;

/// <summary>The destination's TCP listener with QEMU's inet options; its bound address is query-migrate's socket-address.</summary>
public sealed class ListenerTests
{
    [Fact]
    public void A_tcp_listener_with_to_takes_the_next_free_port_and_reports_it()
    {
        using var busy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        busy.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        busy.Listen(1);
        var port = ((IPEndPoint)busy.LocalEndPoint!).Port;
        var text = port.ToString(CultureInfo.InvariantCulture);

        using (var listener = MigrationListener.Listen(SocketMigrationAddress.Inet("127.0.0.1", text, new InetSocketOptions { To = port + 20 })))
        {
            Assert.Equal("127.0.0.1", listener.Bound.Host);
            Assert.InRange(int.Parse(listener.Bound.Port!, CultureInfo.InvariantCulture), port + 1, port + 20);
        }
        var e = Assert.Throws<MigrationException>(() => MigrationListener.Listen(SocketMigrationAddress.Inet("127.0.0.1", text)));
        Assert.Equal("Failed to find an available port: Address already in use", e.Message);
        e = Assert.Throws<MigrationException>(() => MigrationListener.Listen(SocketMigrationAddress.Inet("127.0.0.1", text, new InetSocketOptions { Ipv4 = false, Ipv6 = false })));
        Assert.Equal("Cannot disable IPv4 and IPv6 at same time", e.Message);
    }
}
