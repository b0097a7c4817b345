using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Qmp.Schema;
using Qmp.Schema.Json;
using Qmp.Schema.Runtime;

namespace Qmp.Client;

/// <summary>
/// A QMP client for qmpd or QEMU: reads the greeting, negotiates, runs commands (matched to
/// replies by id, so out-of-band replies may overtake), and delivers events as an async stream.
/// </summary>
public sealed class QmpClient : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly Channel<QmpEvent> _events = Channel.CreateUnbounded<QmpEvent>();
    private readonly TaskCompletionSource<JsonObject> _greeting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _reader;
    private long _nextId;
    private int _disposed;

    private QmpClient(Stream stream)
    {
        _stream = stream;
        _reader = Task.Run(ReadLoopAsync);
    }

    /// <summary>The greeting's <c>QMP</c> member.</summary>
    public JsonObject Greeting { get; private set; } = [];

    /// <summary>The server's version, from the greeting.</summary>
    public VersionInfo Version => VersionInfo.Read(Greeting["version"]);

    /// <summary>Capabilities the server offered.</summary>
    public IReadOnlyList<string> Capabilities => Greeting["capabilities"]?.AsArray().Select(c => c!.GetValue<string>()).ToList() ?? [];

    /// <summary>Completes when the server closes the connection.</summary>
    public Task Closed => _reader;

    /// <summary>Connects over a unix socket and reads the greeting.</summary>
    public static async Task<QmpClient> ConnectUnixAsync(string path, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return await ConnectAsync(new NetworkStream(socket, ownsSocket: true), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Connects over TCP and reads the greeting.</summary>
    public static async Task<QmpClient> ConnectTcpAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
        return await ConnectAsync(tcp.GetStream(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Uses a connected stream (the client owns it) and reads the greeting.</summary>
    public static async Task<QmpClient> ConnectAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var client = new QmpClient(stream);
        try
        {
            var greeting = await client._greeting.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            client.Greeting = greeting["QMP"] as JsonObject ?? throw new InvalidDataException("The server's greeting has no 'QMP' member.");
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs qmp_capabilities, enabling OOB when asked and offered.</summary>
    public async Task NegotiateAsync(bool enableOob = false, CancellationToken cancellationToken = default)
    {
        var arguments = enableOob && Capabilities.Contains("oob") ? new JsonObject { ["enable"] = new JsonArray("oob") } : null;
        await ExecuteAsync("qmp_capabilities", arguments, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs a command; returns its <c>return</c> value or throws <see cref="QmpCommandException"/>.</summary>
    public Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments = null, CancellationToken cancellationToken = default) =>
        SendAsync("execute", command, arguments, cancellationToken);

    /// <summary>Runs a command out of band (OOB must have been enabled).</summary>
    public Task<JsonNode?> ExecuteOobAsync(string command, JsonObject? arguments = null, CancellationToken cancellationToken = default) =>
        SendAsync("exec-oob", command, arguments, cancellationToken);

    /// <summary>Runs a command and reads its result as a generated schema type.</summary>
    public async Task<T> ExecuteAsync<T>(string command, JsonObject? arguments = null, CancellationToken cancellationToken = default)
        where T : IQapiType<T> =>
        T.Read(await ExecuteAsync(command, arguments, cancellationToken).ConfigureAwait(false));

    /// <summary>Runs a command whose result is a list of a generated schema type.</summary>
    public async Task<IReadOnlyList<T>> ExecuteListAsync<T>(string command, JsonObject? arguments = null, CancellationToken cancellationToken = default)
        where T : IQapiType<T>
    {
        var result = await ExecuteAsync(command, arguments, cancellationToken).ConfigureAwait(false);
        return (result as JsonArray ?? throw new InvalidDataException($"{command} did not return a list")).Select(T.Read).ToList();
    }

    /// <summary>Sends raw bytes, for tests of malformed input.</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Events in arrival order, until the connection closes.</summary>
    public async IAsyncEnumerable<QmpEvent> EventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (_events.Reader.TryRead(out var qmpEvent))
                yield return qmpEvent;
        }
    }

    /// <summary>Waits for the next event named <paramref name="name"/>, skipping others.</summary>
    public async Task<QmpEvent> WaitEventAsync(string name, CancellationToken cancellationToken = default)
    {
        await foreach (var qmpEvent in EventsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (qmpEvent.Name == name)
                return qmpEvent;
        }
        throw new IOException($"The connection closed before event {name}.");
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        await _closing.CancelAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        await _reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _closing.Dispose();
    }

    private async Task<JsonNode?> SendAsync(string verb, string command, JsonObject? arguments, CancellationToken cancellationToken)
    {
        var id = $"__qmp#{Interlocked.Increment(ref _nextId):D5}";
        var request = new JsonObject { [verb] = command };
        if (arguments is not null)
            request["arguments"] = arguments.DeepClone();
        request["id"] = id;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var buffer = new ArrayBufferWriter<byte>();
        QmpJsonWriter.Write(buffer, request);
        buffer.Write("\r\n"u8);
        try
        {
            await SendRawAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
            var message = await reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (message["error"] is JsonObject error)
                throw new QmpCommandException(command, error["class"]?.GetValue<string>() ?? "", error["desc"]?.GetValue<string>() ?? "");
            var value = message["return"];
            message.Remove("return");
            return value;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task ReadLoopAsync()
    {
        var parser = new JsonStreamParser();
        var buffer = new byte[64 * 1024];
        Exception? failure = null;
        try
        {
            while (true)
            {
                var read = await _stream.ReadAsync(buffer, _closing.Token).ConfigureAwait(false);
                if (read == 0)
                    break;
                foreach (var message in parser.Feed(buffer.AsSpan(0, read)))
                    Route(message);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
        {
            failure = e;
        }
        var closed = new IOException("The QMP connection was closed.", failure);
        _greeting.TrySetException(closed);
        foreach (var pending in _pending.Values)
            pending.TrySetException(closed);
        _events.Writer.TryComplete();
    }

    private void Route(JsonMessage message)
    {
        if (message.Value is not JsonObject obj)
            throw new InvalidDataException($"The server sent something that is not a QMP message: {message.Error}");
        if (obj.ContainsKey("QMP"))
        {
            _greeting.TrySetResult(obj);
            return;
        }
        if (obj["event"]?.GetValue<string>() is { } name)
        {
            var stamp = obj["timestamp"] as JsonObject;
            var micros = (stamp?["seconds"]?.GetValue<long>() ?? 0) * 1_000_000 + (stamp?["microseconds"]?.GetValue<long>() ?? 0);
            var data = obj["data"] as JsonObject;
            obj.Remove("data");
            _events.Writer.TryWrite(new QmpEvent(name, data, DateTimeOffset.UnixEpoch.AddTicks(micros * 10)));
            return;
        }
        var id = obj["id"] is JsonValue v && v.TryGetValue(out string? s) ? s : null;
        if (id is not null && _pending.TryGetValue(id, out var pending))
        {
            pending.TrySetResult(obj);
            return;
        }
        // An error without id means the server could not parse what we sent: fail every waiter.
        var description = obj["error"]?["desc"]?.GetValue<string>() ?? obj.ToJsonString();
        foreach (var waiting in _pending.Values)
            waiting.TrySetException(new InvalidDataException($"Unmatched reply from the server: {description}"));
    }
}
