using System.Net;
using System.Net.Sockets;

namespace Qmp.Monitor.Transports;

/// <summary>
/// qmpd as the socket client (no <c>server=on</c>), as QEMU's Python harness uses it: connect once
/// at start-up; when that connection ends the monitor has no more clients. Also an inherited,
/// already connected descriptor (a socketpair end).
/// </summary>
public sealed class SocketClientEndpoint : QmpEndpoint
{
    private readonly EndPoint? _target;
    private readonly int? _connectedFd;
    private readonly string _description;
    private Socket? _socket;

    private SocketClientEndpoint(EndPoint? target, int? connectedFd, string description)
    {
        _target = target;
        _connectedFd = connectedFd;
        _description = description;
    }

    /// <summary>Connects to a unix socket at <paramref name="path"/>.</summary>
    public static SocketClientEndpoint Unix(string path) => new(new UnixDomainSocketEndPoint(path), null, $"unix:{path}");

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static SocketClientEndpoint Tcp(string host, int port) =>
        new(new DnsEndPoint(string.IsNullOrEmpty(host) ? "127.0.0.1" : host, port), null, $"tcp:{host}:{port}");

    /// <summary>Uses descriptor <paramref name="fd"/>, already connected.</summary>
    public static SocketClientEndpoint FromFd(int fd) => new(null, fd, $"fd:{fd}");

    /// <inheritdoc/>
    public override async Task ListenAsync(CancellationToken cancellationToken)
    {
        if (_connectedFd is { } fd)
        {
            _socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            return;
        }
        _socket = _target is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await _socket.ConnectAsync(_target!, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new IOException($"Failed to connect to '{_description}': {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public override Task<QmpConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        var socket = Interlocked.Exchange(ref _socket, null);
        if (socket is null)
            return Task.FromResult<QmpConnection?>(null);
        // Unix sockets (a path, or a socketpair end) also carry descriptors for getfd.
        return Task.FromResult<QmpConnection?>(new QmpConnection(new SocketStream(socket), _description));
    }

    /// <inheritdoc/>
    public override string Describe(QmpConnection? current) => current is null ? "disconnected:" + _description : _description;

    /// <inheritdoc/>
    public override ValueTask DisposeAsync()
    {
        _socket?.Dispose();
        return ValueTask.CompletedTask;
    }
}
