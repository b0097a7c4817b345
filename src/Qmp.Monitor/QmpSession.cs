using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Qmp.Monitor.Protocol;
using Qmp.Schema;
using Qmp.Schema.Json;
using Qmp.Schema.Runtime;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Qmp.Monitor;

/// <summary>
/// One client connection: greeting, capabilities negotiation, in-band commands strictly one at a
/// time in arrival order (parse errors included), out-of-band commands as soon as they are read,
/// and events once negotiated. StreamJsonRpc dispatches the commands; this class is its message
/// handler, so JsonRpc only ever sees validated requests and every request gets one reply.
/// </summary>
public sealed partial class QmpSession : IJsonRpcMessageHandler
{
    private const string CapabilitiesCommand = "qmp_capabilities";

    private readonly Stream _stream;
    private readonly QmpCommandTable _commands;
    private readonly QmpMonitorOptions _options;
    private readonly JsonObject _version;
    private readonly ILogger _logger;
    private readonly QmpOutput _output;
    private readonly ConcurrentQueue<JsonMessage> _inBand = new();
    private readonly ConcurrentQueue<QmpRequest> _oobReady = new();
    private readonly ConcurrentDictionary<long, (QmpRequestId Id, bool InBand)> _inFlight = new();
    private readonly WakeSignal _wake = new();
    private readonly SemaphoreSlim _inBandRoom = new(0);
    private readonly CancellationTokenSource _closing = new();
    private readonly QmpRequestContext _context;
    private readonly MonitorFdStore? _ownFds;
    private long _nextId;
    private int _receiveWaiting;
    private volatile bool _inBandBusy;
    private volatile bool _inputDone;
    private volatile bool _commandMode;
    private volatile bool _oobEnabled;

    /// <summary>Creates a session over a connected stream.</summary>
    /// <param name="stream">The connection; on a unix socket (<see cref="Transports.SocketStream"/>) descriptors passed with SCM_RIGHTS reach getfd.</param>
    /// <param name="commands">The machine's commands.</param>
    /// <param name="options">Monitor options.</param>
    /// <param name="version">The greeting's version.</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="peer">Who is connected, for logs.</param>
    /// <param name="fds">The monitor's named descriptors (they outlive a connection); null gives the session its own.</param>
    public QmpSession(Stream stream, QmpCommandTable commands, QmpMonitorOptions options, VersionInfo version, ILogger logger, string peer, IQmpFdStore? fds = null)
    {
        var receiver = stream as Transports.SocketStream;
        _ownFds = fds is null ? new MonitorFdStore() : null;
        _context = new QmpRequestContext(fds ?? _ownFds!, () => receiver?.TakeReceivedFd());
        _stream = stream;
        _commands = commands;
        _options = options;
        _version = version.ToJson();
        _logger = logger;
        Peer = peer;
        _output = new QmpOutput(stream);
        _closing.Token.Register(() => _wake.Set());
    }

    /// <summary>Who is connected, for logs.</summary>
    public string Peer { get; }

    /// <summary>True once <c>qmp_capabilities</c> succeeded; only then are events delivered.</summary>
    public bool InCommandMode => _commandMode;

    bool IJsonRpcMessageHandler.CanRead => true;

    bool IJsonRpcMessageHandler.CanWrite => true;

    IJsonRpcMessageFormatter IJsonRpcMessageHandler.Formatter { get; } = new QmpFormatter();

    /// <summary>Serves the client until it disconnects or <paramref name="cancellationToken"/> asks to stop.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var stop = cancellationToken.Register(() => _closing.Cancel());
        var rpc = new QmpJsonRpc(this, e => _logger.LogError(e, "Command failed unexpectedly"))
        {
            // Ordering is enforced by this handler, not by the context (see InlineSynchronizationContext).
            SynchronizationContext = new InlineSynchronizationContext(),
            // Handlers are cancelled through the session's own token (InvokeAsync), and QMP has no
            // $/cancelRequest: JsonRpc's per-request cancellation bookkeeping would be pure cost.
            CancelLocallyInvokedMethodsWhenConnectionIsClosed = false,
            CancellationStrategy = null,
        };
        rpc.TraceSource.Switch.Level = SourceLevels.Off;
        foreach (var command in _commands.Commands)
        {
            if (_commands.Handler(command.Name) is { } handler)
                rpc.AddLocalRpcMethod(command.Name, new Func<JsonObject, Task<JsonNode?>>(args => InvokeAsync(handler, args)));
        }

        var receive = Task.CompletedTask;
        try
        {
            await _output.WriteAsync(Greeting(), _options.Pretty).ConfigureAwait(false);
            rpc.StartListening();
            receive = _stream is Transports.SocketStream ? ReceiveOnOwnThread() : ReceiveAsync(ownThread: false, _closing.Token);
            await rpc.Completion.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogDebug("QMP connection {Peer} ended with an error: {Reason}", Peer, e.Message);
        }
        finally
        {
            _closing.Cancel();
            // A console read cannot be cancelled; do not let it hold the shutdown.
            await receive.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _output.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            rpc.Dispose();
            await _stream.DisposeAsync().ConfigureAwait(false);
            _ownFds?.Dispose();
        }
    }

    /// <summary>
    /// Runs a handler; it is cancelled when the session closes for good. JsonRpc's own token is
    /// never cancelled here (QMP has no cancel request and JsonRpc's cancellation is off).
    /// </summary>
    /// <remarks>
    /// The handler sees this connection as <see cref="QmpRequestContext.Current"/>; an async method
    /// restores the previous value when it returns, so the context never leaks to other work.
    /// </remarks>
    private async Task<JsonNode?> InvokeAsync(QmpCommandHandler handler, JsonObject arguments)
    {
        QmpRequestContext.Current = _context;
        return await handler(arguments, _closing.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the session gracefully: no more input is read, queued commands that have not started
    /// are dropped, the one running finishes and its reply and pending events are written.
    /// </summary>
    public void BeginClose()
    {
        _inputDone = true;
        _inBand.Clear();
        if (Interlocked.Exchange(ref _receiveWaiting, 0) == 1)
            _inBandRoom.Release();
        _closing.CancelAfter(TimeSpan.FromSeconds(10));
        ShutdownInput();
        _wake.Set();
    }

    /// <summary>Delivers an event if the client negotiated; never blocks.</summary>
    internal void Deliver(QmpEventMessage message)
    {
        if (!_commandMode)
            return;
        // One warning per burst: a client that stopped reading would otherwise flood the log.
        if (!_output.TryWriteEvent(_options.Pretty ? message.Pretty : message.Compact) && _output.DroppedEvents % 1000 == 1)
            _logger.LogWarning("Dropping events for {Peer} ({Event} and {Count} so far): the client is not reading", Peer, message.Name, _output.DroppedEvents);
    }

    /// <summary>Events dropped because the client did not read.</summary>
    internal long DroppedEvents => _output.DroppedEvents;

    private int InBandLimit => _oobEnabled ? _options.InBandQueueLimit : 1;

    private JsonObject Greeting() => new()
    {
        ["QMP"] = new JsonObject
        {
            ["version"] = _version.DeepClone(),
            ["capabilities"] = _options.OfferOob ? new JsonArray("oob") : new JsonArray(),
        },
    };

    private async Task HandleOutOfBandAsync(JsonObject request)
    {
        var id = QmpRequestId.From(request);
        var outcome = QmpDispatchCheck.Check(request, _oobEnabled);
        var error = outcome.Error is null ? Resolve(outcome) : (outcome.ErrorClass, outcome.Error);
        if (error is { } e && e.Item2 is not null)
        {
            await WriteAsync(QmpWire.Error(e.Item1, e.Item2, id)).ConfigureAwait(false);
            return;
        }
        _oobReady.Enqueue(Register(outcome, id, inBand: false));
        _wake.Set();
    }

    /// <summary>Looks the command up; null when it may run, else the error QEMU gives.</summary>
    private (QmpErrorClass, string?)? Resolve(QmpDispatchCheck.Outcome outcome)
    {
        var info = _commands.Find(outcome.Command!);
        if (info is null)
        {
            return (QmpErrorClass.CommandNotFound, _commandMode
                ? $"The command {outcome.Command} has not been found"
                : "Expecting capabilities negotiation with 'qmp_capabilities'");
        }
        if (outcome.Oob && !info.AllowOob)
            return (QmpErrorClass.GenericError, $"The command {outcome.Command} does not support OOB");
        if (!_commandMode && info.Name != CapabilitiesCommand)
            return (QmpErrorClass.CommandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'");
        return null;
    }

    private QmpRequest Register(QmpDispatchCheck.Outcome outcome, QmpRequestId id, bool inBand)
    {
        var synthetic = Interlocked.Increment(ref _nextId);
        _inFlight[synthetic] = (id, inBand);
        return new QmpRequest(synthetic, outcome.Command!, outcome.Arguments!);
    }

    private Task WriteAsync(JsonObject message) => _output.WriteAsync(message, _options.Pretty);

    async ValueTask<JsonRpcMessage?> IJsonRpcMessageHandler.ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // Closing for good (grace period over): JsonRpc then cancels what is still running.
            if (_closing.IsCancellationRequested)
                return null;
            if (_oobReady.TryDequeue(out var oob))
                return oob;
            if (!_inBandBusy && _inBand.TryDequeue(out var message))
            {
                // Wake the reader only when it waits and there is room now: one wake per refill,
                // not one per command.
                if (Volatile.Read(ref _receiveWaiting) == 1 && _inBand.Count < InBandLimit && Interlocked.Exchange(ref _receiveWaiting, 0) == 1)
                    _inBandRoom.Release();
                if (await PrepareInBandAsync(message).ConfigureAwait(false) is { } request)
                {
                    _inBandBusy = true;
                    return request;
                }
                continue;
            }
            if (_inputDone && !_inBandBusy && _inBand.IsEmpty && _oobReady.IsEmpty && _inFlight.IsEmpty)
                return null;
            try
            {
                // Nothing to do right now: send what replies are held back before sleeping.
                if (!_wake.TryConsume())
                {
                    await _output.FlushAsync().ConfigureAwait(false);
                    await _wake.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
    }

    /// <summary>Answers what needs no dispatch (parse errors, bad requests, negotiation); returns the rest.</summary>
    private async Task<QmpRequest?> PrepareInBandAsync(JsonMessage message)
    {
        if (message.Error is not null)
        {
            await WriteAsync(QmpWire.Error(QmpErrorClass.GenericError, message.Error, QmpRequestId.None)).ConfigureAwait(false);
            return null;
        }
        if (message.Value is not JsonObject request)
        {
            await WriteAsync(QmpWire.Error(QmpErrorClass.GenericError, "QMP input must be a JSON object", QmpRequestId.None)).ConfigureAwait(false);
            return null;
        }
        var id = QmpRequestId.From(request);
        var outcome = QmpDispatchCheck.Check(request, _oobEnabled);
        if (outcome.Error is not null)
        {
            await WriteAsync(QmpWire.Error(outcome.ErrorClass, outcome.Error, id)).ConfigureAwait(false);
            return null;
        }
        if (Resolve(outcome) is { } refusal)
        {
            await WriteAsync(QmpWire.Error(refusal.Item1, refusal.Item2!, id)).ConfigureAwait(false);
            return null;
        }
        if (outcome.Command == CapabilitiesCommand)
        {
            await WriteAsync(NegotiateCapabilities(outcome.Arguments!, id)).ConfigureAwait(false);
            return null;
        }
        return Register(outcome, id, inBand: true);
    }

    /// <summary><c>qmp_capabilities</c>, which the monitor implements for its own connection.</summary>
    private JsonObject NegotiateCapabilities(JsonObject arguments, QmpRequestId id)
    {
        if (_commandMode)
            return QmpWire.Error(QmpErrorClass.CommandNotFound, "Capabilities negotiation is already complete, command ignored", id);
        try
        {
            var parsed = QmpCapabilitiesArguments.FromJson(arguments);
            var enable = parsed.Enable ?? [];
            var unavailable = enable.Where(c => c == QMPCapability.Oob && !_options.OfferOob).Select(c => c.ToWire()).Distinct().ToList();
            if (unavailable.Count > 0)
                return QmpWire.Error(QmpErrorClass.GenericError, $"Capability {string.Join(", ", unavailable)} not available", id);
            _oobEnabled = enable.Contains(QMPCapability.Oob);
            _commandMode = true;
            return QmpWire.Return(new JsonObject(), id);
        }
        catch (QmpErrorException e)
        {
            return QmpWire.Error(e.ErrorClass, e.Message, id);
        }
    }

    async ValueTask IJsonRpcMessageHandler.WriteAsync(JsonRpcMessage jsonRpcMessage, CancellationToken cancellationToken)
    {
        if (jsonRpcMessage is not IJsonRpcMessageWithId { RequestId.Number: { } synthetic }
            || !_inFlight.TryRemove(synthetic, out var pending))
        {
            _logger.LogWarning("Ignored an unexpected {Message} from the dispatcher", jsonRpcMessage.GetType().Name);
            return;
        }
        try
        {
            var reply = jsonRpcMessage switch
            {
                JsonRpcResult result => QmpWire.Return(result.Result as JsonNode ?? new JsonObject(), pending.Id),
                JsonRpcError { Error: { } error } => QmpWire.Error(error.Data as QmpErrorClass? ?? QmpErrorClass.GenericError, error.Message ?? "", pending.Id),
                _ => QmpWire.Error(QmpErrorClass.GenericError, "Internal error", pending.Id),
            };
            // In-band replies may be held while more in-band requests wait, and go out together.
            await _output.WriteAsync(reply, _options.Pretty, more: pending.InBand && !_inBand.IsEmpty).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            _logger.LogDebug("Reply to {Peer} not written: {Reason}", Peer, e.Message);
        }
        finally
        {
            if (pending.InBand)
                _inBandBusy = false;
            _wake.Set();
        }
    }
}
