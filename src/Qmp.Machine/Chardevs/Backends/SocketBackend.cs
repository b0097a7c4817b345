using System.Net;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using Qmp.Machine.Sockets;

namespace Qmp.Machine.Chardevs.Backends;

/// <summary>
/// QEMU's <c>socket</c> chardev for guest devices: a unix or TCP socket, as a server (one client at
/// a time; the next is accepted when the current one leaves) or a client. Guest output goes to the
/// connected peer through a bounded writer and is dropped while nobody is connected, so the guest
/// never waits; input is handed to the device on the machine thread through <see cref="Dispatcher"/>,
/// only as much as the device can take, the rest held until it has room.
/// </summary>
public sealed class SocketBackend : ICharBackend, IDisposable
{
    private readonly object _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Socket? _listener;
    private readonly string? _unixPath;
    private readonly string _description;
    private readonly Queue<byte> _pending = new();
    private Socket? _client;
    private StreamBackend? _output;

    private SocketBackend(Socket? listener, string description, string? unixPath)
    {
        _listener = listener;
        _description = description;
        _unixPath = unixPath;
    }

    /// <summary>Runs work on the machine thread; the machine sets it (inline until then).</summary>
    public Action<Action> Dispatcher { get; set; } = static work => work();

    /// <inheritdoc/>
    public Action<ReadOnlySpan<byte>>? Received { get; set; }

    /// <inheritdoc/>
    public Func<int>? CanReceive { get; set; }

    /// <summary>Whether a peer is connected.</summary>
    public bool Connected
    {
        get
        {
            lock (_lock)
                return _client is not null;
        }
    }

    /// <summary>QEMU's query-chardev filename: prefixed with <c>disconnected:</c> while nobody is connected.</summary>
    public string Filename => (Connected ? "" : "disconnected:") + _description;

    /// <summary>
    /// Listens on a unix path or TCP address (with QEMU's inet <paramref name="options"/>); with <paramref name="wait"/>
    /// blocks until the first client connects, as QEMU does.
    /// </summary>
    /// <exception cref="MachineOperationException">The address cannot be bound.</exception>
    public static SocketBackend Listen(string? path, string? host, int port, bool wait, InetSocketOptions? options = null)
    {
        if (path is null)
        {
            Socket tcp;
            try
            {
                tcp = (options ?? InetSocketOptions.None).Listen(host ?? "", port, 1);
            }
            catch (SocketAddressException e)
            {
                throw new MachineOperationException(e.Message);
            }
            // The port bound, as QEMU shows it: the one a range or port 0 gave.
            return Serve(tcp, Describe(null, host, ((IPEndPoint)tcp.LocalEndPoint!).Port), null, wait);
        }
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            if (File.Exists(path))
                File.Delete(path);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            listener.Dispose();
            throw new MachineOperationException($"Failed to bind socket to {Describe(path, host, port)}: {e.Message}");
        }
        return Serve(listener, Describe(path, host, port), path, wait);
    }

    /// <summary>
    /// Takes over a socket descriptor received with <c>getfd</c>, as QEMU's fd socket address: with
    /// <paramref name="server"/> it is put in the listening state and serves clients, otherwise it is the connection.
    /// </summary>
    /// <exception cref="MachineOperationException">The descriptor is not a socket, or cannot listen.</exception>
    public static SocketBackend Adopt(SafeFileHandle descriptor, string name, bool server, bool wait)
    {
        // One owner at a time: the socket handle takes the descriptor over before anything can fail.
        var handle = new SafeSocketHandle(descriptor.DangerousGetHandle(), ownsHandle: true);
        descriptor.SetHandleAsInvalid();
        Socket? socket = null;
        string description;
        try
        {
            socket = new Socket(handle);
            // The handle constructor takes any descriptor; SO_TYPE fails with ENOTSOCK on a pipe or file.
            socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Type);
            // Senders often pass it non-blocking, and .NET then refuses the blocking sends and accepts used here.
            socket.Blocking = true;
            description = socket.LocalEndPoint switch
            {
                IPEndPoint ip => Describe(null, ip.Address.ToString(), ip.Port),
                var local => Describe(local?.ToString() ?? "", null, 0),
            };
        }
        catch (SocketException)
        {
            if (socket is null)
                handle.Dispose();
            socket?.Dispose();
            throw new MachineOperationException($"File descriptor '{name}' is not a socket");
        }
        if (!server)
        {
            var backend = new SocketBackend(null, description, null);
            backend.Attach(socket);
            return backend;
        }
        try
        {
            socket.Listen(1);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new MachineOperationException($"Failed to listen on fd socket: {e.Message}");
        }
        return Serve(socket, description, null, wait);
    }

    /// <summary>Connects to a listening unix or TCP socket; <paramref name="options"/> may ask for keep-alive.</summary>
    /// <exception cref="MachineOperationException">Nobody listens there.</exception>
    public static SocketBackend Connect(string? path, string? host, int port, InetSocketOptions? options = null)
    {
        EndPoint endpoint;
        try
        {
            endpoint = path is not null ? new UnixDomainSocketEndPoint(path) : new IPEndPoint((options ?? InetSocketOptions.None).Resolve(host ?? "", port, passive: false), port);
        }
        catch (SocketAddressException e)
        {
            throw new MachineOperationException(e.Message);
        }
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, path is not null ? ProtocolType.Unspecified : ProtocolType.Tcp);
        try
        {
            socket.Connect(endpoint);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            // QEMU's wording: the address as given and the errno text.
            var reason = path is not null && !File.Exists(path) ? "No such file or directory"
                : e.SocketErrorCode == SocketError.ConnectionRefused ? "Connection refused" : e.Message;
            throw new MachineOperationException($"Failed to connect to '{(path ?? $"{host}:{port}")}': {reason}");
        }
        options?.Apply(socket);
        var backend = new SocketBackend(null, Describe(path, host, port), null);
        backend.Attach(socket);
        return backend;
    }

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<byte> data)
    {
        StreamBackend? output;
        lock (_lock)
            output = _output;
        output?.Write(data);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop.Cancel();
        _listener?.Dispose();
        Detach();
        if (_unixPath is not null)
        {
            try
            {
                File.Delete(_unixPath);
            }
            catch (IOException)
            {
                // Best effort, as QEMU: a socket file someone else replaced is left alone.
            }
        }
    }

    // A listening socket's backend; it removes unixPath (a socket file it created) when disposed.
    private static SocketBackend Serve(Socket listener, string description, string? unixPath, bool wait)
    {
        var backend = new SocketBackend(listener, description + ",server=on", unixPath);
        if (wait)
            backend.Attach(listener.Accept());
        _ = backend.AcceptLoopAsync();
        return backend;
    }

    private static string Describe(string? path, string? host, int port) => path is not null ? $"unix:{path}" : $"tcp:{host}:{port}";

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (Connected)
                {
                    await Task.Delay(50, _stop.Token).ConfigureAwait(false);
                    continue;
                }
                Attach(await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false));
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                    return;
            }
        }
    }

    private void Attach(Socket client)
    {
        lock (_lock)
        {
            _client = client;
            _output = new StreamBackend(new NetworkStream(client, ownsSocket: false), name: $"chardev {_description}");
        }
        _ = ReadLoopAsync(client);
    }

    private void Detach()
    {
        Socket? client;
        StreamBackend? output;
        lock (_lock)
        {
            (client, output) = (_client, _output);
            _client = null;
            _output = null;
        }
        output?.Dispose();
        client?.Dispose();
    }

    private async Task ReadLoopAsync(Socket client)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0)
                    break;
                var chunk = buffer[..n];
                Dispatcher(() => Deliver(chunk));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The peer or qmpd closed the connection.
        }
        lock (_lock)
        {
            if (!ReferenceEquals(_client, client))
                return;
        }
        Detach();
    }

    // On the machine thread: give the device what fits; keep the rest and retry shortly.
    private void Deliver(byte[] chunk)
    {
        foreach (var b in chunk)
            _pending.Enqueue(b);
        var room = Math.Min(_pending.Count, CanReceive?.Invoke() ?? _pending.Count);
        if (room > 0 && Received is { } received)
        {
            var bytes = new byte[room];
            for (var i = 0; i < room; i++)
                bytes[i] = _pending.Dequeue();
            received(bytes);
        }
        if (_pending.Count > 0 && !_stop.IsCancellationRequested)
            _ = Task.Delay(1).ContinueWith(_ => Dispatcher(() => Deliver([])), TaskScheduler.Default);
    }
}
