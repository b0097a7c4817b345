using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Qmp.Monitor.Transports;

/// <summary>
/// A listening socket: unix (created mode 0600, unlinked on dispose), TCP, or an inherited
/// listening descriptor (libvirt passes <c>fd=N</c>). Clients are served one at a time; others
/// wait in the backlog and are greeted when the slot frees, as with QEMU.
/// </summary>
public sealed class SocketServerEndpoint : QmpEndpoint
{
    private const int Backlog = 16;

    private readonly EndPoint? _bindTo;
    private readonly int? _inheritedFd;
    private readonly string _description;
    private Socket? _listener;

    private SocketServerEndpoint(EndPoint? bindTo, int? inheritedFd, string description)
    {
        _bindTo = bindTo;
        _inheritedFd = inheritedFd;
        _description = description;
    }

    /// <summary>A unix socket at <paramref name="path"/>.</summary>
    public static SocketServerEndpoint Unix(string path) => new(new UnixDomainSocketEndPoint(path), null, $"unix:{path},server=on");

    /// <summary>A TCP socket; <paramref name="host"/> defaults to loopback.</summary>
    public static SocketServerEndpoint Tcp(string host, int port)
    {
        var address = string.IsNullOrEmpty(host) || host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host);
        return new SocketServerEndpoint(new IPEndPoint(address, port), null, $"tcp:{host}:{port},server=on");
    }

    /// <summary>An already listening socket inherited as descriptor <paramref name="fd"/>.</summary>
    public static SocketServerEndpoint FromFd(int fd) => new(null, fd, $"fd:{fd},server=on");

    /// <summary>The unix path, if this is a unix socket.</summary>
    public string? UnixPath => (_bindTo as UnixDomainSocketEndPoint)?.ToString();

    /// <summary>The bound TCP port (useful with port 0).</summary>
    public int? TcpPort => (_listener?.LocalEndPoint as IPEndPoint)?.Port;

    /// <inheritdoc/>
    public override Task ListenAsync(CancellationToken cancellationToken)
    {
        if (_inheritedFd is { } fd)
        {
            _listener = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            return Task.CompletedTask;
        }
        var endPoint = _bindTo!;
        _listener = new Socket(endPoint.AddressFamily, SocketType.Stream, endPoint is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        if (endPoint is UnixDomainSocketEndPoint)
        {
            var path = endPoint.ToString()!;
            // A socket file left by a process that is gone is stale; a live one is refused below.
            if (File.Exists(path) && !IsLive(path))
                File.Delete(path);
            // The socket file is created by bind(): make it 0600 from the first instant.
            var previous = Umask(0x3F);
            try
            {
                _listener.Bind(endPoint);
            }
            finally
            {
                Umask(previous);
            }
        }
        else
        {
            _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Bind(endPoint);
        }
        _listener.Listen(Backlog);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override async Task<QmpConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        var client = await _listener!.AcceptAsync(cancellationToken).ConfigureAwait(false);
        if (client.AddressFamily != AddressFamily.Unix)
            client.NoDelay = true;
        var peer = client.RemoteEndPoint?.ToString() is { Length: > 0 } remote ? remote : "unix";
        return new QmpConnection(new SocketStream(client), peer);
    }

    /// <inheritdoc/>
    public override string Describe(QmpConnection? current)
    {
        if (current is null)
            return "disconnected:" + _description;
        return _bindTo is IPEndPoint ? $"{_description} <-> {current.Peer}" : _description;
    }

    /// <inheritdoc/>
    public override ValueTask DisposeAsync()
    {
        _listener?.Dispose();
        if (_bindTo is UnixDomainSocketEndPoint && _listener is not null)
        {
            try
            {
                File.Delete(_bindTo.ToString()!);
            }
            catch (IOException)
            {
                // Already gone: nothing to clean.
            }
        }
        return ValueTask.CompletedTask;
    }

    private static bool IsLive(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            throw new IOException($"Failed to bind socket to {path}: Address already in use");
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "umask")]
    private static extern int Umask(int mask);
}
