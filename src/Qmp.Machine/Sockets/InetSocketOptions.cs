using System.Net;
using System.Net.Sockets;

namespace Qmp.Machine.Sockets;

/// <summary>
/// QEMU's InetSocketAddress options beside host and port, applied where QEMU 7.2 applies them (observed): ipv4,
/// ipv6 and numeric choose how a listening address resolves, and to gives a listener a port range; keep-alive turns
/// on SO_KEEPALIVE on a connection. A connection resolves its host as it would without them, as QEMU 7.2's does.
/// </summary>
public sealed record InetSocketOptions
{
    /// <summary>No options: QEMU's defaults.</summary>
    public static InetSocketOptions None { get; } = new();

    /// <summary>The host must be a numeric address (no name lookup).</summary>
    public bool? Numeric { get; init; }

    /// <summary>A listener takes the first free port from the given one up to this one.</summary>
    public int? To { get; init; }

    /// <summary>Allow (true) or refuse (false) IPv4.</summary>
    public bool? Ipv4 { get; init; }

    /// <summary>Allow (true) or refuse (false) IPv6.</summary>
    public bool? Ipv6 { get; init; }

    /// <summary>SO_KEEPALIVE on a connection.</summary>
    public bool? KeepAlive { get; init; }

    /// <summary>Binds a TCP socket on <paramref name="host"/> (empty: any address) and listens.</summary>
    /// <exception cref="SocketAddressException">The address does not resolve, or no port of the range is free.</exception>
    public Socket Listen(string host, int port, int backlog)
    {
        var address = Resolve(host, port, passive: true);
        var last = To ?? port;
        if (port is < 0 or > IPEndPoint.MaxPort || last > IPEndPoint.MaxPort)
            throw new SocketAddressException($"Failed to find an available port: ports {port}-{last} are outside 0-{IPEndPoint.MaxPort}");
        if (last < port)
            throw new SocketAddressException($"Failed to find an available port: the range {port}-{last} is empty");
        for (var candidate = port; ; candidate++)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                // QEMU's try_bind: an IPv6 socket also takes IPv4 only when neither or both families were asked for.
                if (address.AddressFamily == AddressFamily.InterNetworkV6)
                    socket.DualMode = Ipv4 == Ipv6;
                socket.Bind(new IPEndPoint(address, candidate));
            }
            catch (SocketException e)
            {
                socket.Dispose();
                if (e.SocketErrorCode != SocketError.AddressAlreadyInUse)
                    throw new SocketAddressException($"Failed to bind socket: {e.Message}", e);
                if (candidate >= last)
                    throw new SocketAddressException($"Failed to find an available port: {e.Message}", e);
                continue;
            }
            try
            {
                socket.Listen(backlog);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                throw new SocketAddressException($"Failed to listen on socket: {e.Message}", e);
            }
        }
    }

    /// <summary>Applies the options that concern a connected socket (keep-alive).</summary>
    public void Apply(Socket connected)
    {
        if (KeepAlive == true)
            connected.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
    }

    // QEMU's inet_ai_family_from_address.
    private AddressFamily Family()
    {
        if (Ipv4 == false && Ipv6 == false)
            throw new SocketAddressException("Cannot disable IPv4 and IPv6 at same time");
        if (Ipv4 == true && Ipv6 == true)
            return AddressFamily.Unspecified;
        if (Ipv6 == true || Ipv4 == false)
            return AddressFamily.InterNetworkV6;
        if (Ipv4 == true || Ipv6 == false)
            return AddressFamily.InterNetwork;
        return AddressFamily.Unspecified;
    }

    /// <summary>
    /// The address <paramref name="host"/> (empty: any address) resolves to, an IPv4 one first. For a listener
    /// (<paramref name="passive"/>) the family and numeric options apply; a connection resolves without them, as QEMU 7.2's.
    /// </summary>
    /// <exception cref="SocketAddressException">The host does not resolve (to an allowed family); QEMU's text.</exception>
    public IPAddress Resolve(string host, int port, bool passive)
    {
        var family = passive ? Family() : AddressFamily.Unspecified;
        SocketAddressException Failed(string reason, Exception? inner = null) => new($"address resolution failed for {host}:{port}: {reason}", inner);
        // ipv4=on,ipv6=on: QEMU resolves an empty host to "::" and takes both families on one socket.
        if (host.Length == 0)
            return passive && (family == AddressFamily.InterNetworkV6 || (Ipv4 == true && Ipv6 == true)) ? IPAddress.IPv6Any : IPAddress.Any;
        if (IPAddress.TryParse(host, out var literal))
            return family == AddressFamily.Unspecified || literal.AddressFamily == family ? literal : throw Failed("Address family for hostname not supported");
        if (passive && Numeric == true)
            throw Failed("Name or service not known");
        IPAddress[] resolved;
        try
        {
            resolved = Dns.GetHostAddresses(host);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            throw Failed(e.Message, e);
        }
        var usable = resolved.Where(a => family == AddressFamily.Unspecified || a.AddressFamily == family).ToList();
        return usable.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? usable.FirstOrDefault()
            ?? throw Failed("Address family for hostname not supported");
    }
}
