using System.Net;
using System.Net.Sockets;
using Qmp.Machine.Sockets;

namespace Qmp.Machine.Tests.Sockets;

/// <summary>QEMU's inet options on a listener and a connection, with QEMU 7.2's texts (recorded with chardev-add).</summary>
public sealed class InetSocketOptionsTests
{
    private static Socket Busy(out int port)
    {
        var busy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        busy.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        busy.Listen(1);
        port = ((IPEndPoint)busy.LocalEndPoint!).Port;
        return busy;
    }

    [Fact]
    public void A_listener_with_to_takes_a_free_port_after_a_busy_one()
    {
        using var busy = Busy(out var port);
        using var listener = new InetSocketOptions { To = port + 20 }.Listen("127.0.0.1", port, 1);
        var bound = ((IPEndPoint)listener.LocalEndPoint!).Port;
        Assert.InRange(bound, port + 1, port + 20);
    }

    [Fact]
    public void A_busy_port_without_a_free_one_in_range_fails_with_QEMUs_text()
    {
        using var busy = Busy(out var port);
        var e = Assert.Throws<SocketAddressException>(() => InetSocketOptions.None.Listen("127.0.0.1", port, 1));
        Assert.Equal("Failed to find an available port: Address already in use", e.Message);
        e = Assert.Throws<SocketAddressException>(() => new InetSocketOptions { To = port }.Listen("127.0.0.1", port, 1));
        Assert.Equal("Failed to find an available port: Address already in use", e.Message);
        e = Assert.Throws<SocketAddressException>(() => new InetSocketOptions { To = port - 1 }.Listen("127.0.0.1", port, 1));
        Assert.Equal($"Failed to find an available port: the range {port}-{port - 1} is empty", e.Message);
    }

    [Fact]
    public void Address_family_and_numeric_options_are_checked_as_QEMU_does()
    {
        var e = Assert.Throws<SocketAddressException>(() => new InetSocketOptions { Ipv4 = false, Ipv6 = false }.Listen("127.0.0.1", 0, 1));
        Assert.Equal("Cannot disable IPv4 and IPv6 at same time", e.Message);
        e = Assert.Throws<SocketAddressException>(() => new InetSocketOptions { Ipv6 = true }.Listen("127.0.0.1", 45116, 1));
        Assert.Equal("address resolution failed for 127.0.0.1:45116: Address family for hostname not supported", e.Message);
        e = Assert.Throws<SocketAddressException>(() => new InetSocketOptions { Ipv4 = true }.Listen("::1", 45118, 1));
        Assert.Equal("address resolution failed for ::1:45118: Address family for hostname not supported", e.Message);
        e = Assert.Throws<SocketAddressException>(() => new InetSocketOptions { Numeric = true }.Listen("localhost", 45114, 1));
        Assert.Equal("address resolution failed for localhost:45114: Name or service not known", e.Message);

        // ipv4=on resolves a name to its IPv4 address; ipv6=off is the same choice.
        using var v4 = new InetSocketOptions { Ipv4 = true }.Listen("localhost", 0, 1);
        Assert.Equal(AddressFamily.InterNetwork, v4.AddressFamily);
        using var notV6 = new InetSocketOptions { Ipv6 = false }.Listen("", 0, 1);
        Assert.Equal(IPAddress.Any, ((IPEndPoint)notV6.LocalEndPoint!).Address);
    }

    [Fact]
    public void An_ipv6_listener_takes_ipv4_too_only_when_both_or_neither_family_is_asked_for()
    {
        Assert.True(Socket.OSSupportsIPv6, "this test needs IPv6 sockets");
        using var v6Only = new InetSocketOptions { Ipv6 = true }.Listen("", 0, 1);
        Assert.Equal((IPAddress.IPv6Any, false), (((IPEndPoint)v6Only.LocalEndPoint!).Address, v6Only.DualMode));
        using var both = new InetSocketOptions { Ipv4 = true, Ipv6 = true }.Listen("", 0, 1);
        Assert.Equal((IPAddress.IPv6Any, true), (((IPEndPoint)both.LocalEndPoint!).Address, both.DualMode));
        var e = Assert.Throws<SocketAddressException>(() => new InetSocketOptions { To = 70000 }.Listen("127.0.0.1", 65000, 1));
        Assert.Equal("Failed to find an available port: ports 65000-70000 are outside 0-65535", e.Message);
    }

    [Fact]
    public void Keep_alive_is_set_on_a_connection()
    {
        using var listener = InetSocketOptions.None.Listen("127.0.0.1", 0, 1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        Assert.Equal(0, (int)client.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!);
        new InetSocketOptions { KeepAlive = true }.Apply(client);
        Assert.NotEqual(0, (int)client.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)!);
    }
}
