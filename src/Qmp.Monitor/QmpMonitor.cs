using Microsoft.Extensions.Logging;
using Qmp.Monitor.Protocol;
using Qmp.Monitor.Transports;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Monitor;

/// <summary>
/// One QMP monitor (<c>-qmp</c>, or <c>-chardev</c> + <c>-mon mode=control</c>): an endpoint and
/// the session of its current client. One client at a time, like QEMU; the next is greeted when
/// the current one leaves.
/// </summary>
public sealed class QmpMonitor : IAsyncDisposable
{
    private readonly QmpEndpoint _endpoint;
    private readonly QmpCommandTable _commands;
    private readonly QmpMonitorOptions _options;
    private readonly VersionInfo _version;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly MonitorFdStore _fds = new();
    private QmpConnection? _waiting;
    private volatile QmpSession? _session;
    private volatile QmpConnection? _connection;
    private Task? _run;

    /// <summary>Creates a monitor; nothing listens before <see cref="ListenAsync"/>.</summary>
    public QmpMonitor(string label, QmpEndpoint endpoint, QmpCommandTable commands, QmpMonitorOptions options, VersionInfo version, ILogger logger)
    {
        Label = label;
        _endpoint = endpoint;
        _commands = commands;
        _options = options with { OfferOob = options.OfferOob && endpoint.OfferOob };
        _version = version;
        _logger = logger;
    }

    /// <summary>The chardev label (<c>compat_monitor0</c> for <c>-qmp</c>).</summary>
    public string Label { get; }

    /// <summary>The endpoint, for its address (a TCP port bound to 0, say).</summary>
    public QmpEndpoint Endpoint => _endpoint;

    /// <summary>QEMU's chardev filename for query-chardev, reflecting the connection state.</summary>
    public string ChardevFilename => _endpoint.Describe(_connection);

    /// <summary>
    /// Listens (or connects). With <paramref name="waitForClient"/> (QEMU's <c>wait=on</c>) it also waits for the
    /// first client, as QEMU's start-up does, but greets no one before <see cref="Serve"/>: QEMU binds its
    /// monitors early and serves them from its main loop, once the guest was started.
    /// </summary>
    public async Task ListenAsync(bool waitForClient, CancellationToken cancellationToken)
    {
        await _endpoint.ListenAsync(cancellationToken).ConfigureAwait(false);
        if (waitForClient)
        {
            _logger.LogInformation("Waiting for connection on {Monitor}", _endpoint.Describe(null));
            _waiting = await _endpoint.AcceptAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Greets and serves clients, one at a time, after <see cref="ListenAsync"/>.</summary>
    public void Serve()
    {
        if (_run is not null)
            throw new InvalidOperationException("The monitor is served already.");
        _run = Task.Run(() => ServeAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Sends an event to the current client, if it has negotiated.</summary>
    internal void Deliver(QmpEventMessage message) => _session?.Deliver(message);

    /// <summary>
    /// Stops accepting; the current client's running command finishes and everything queued for
    /// it (the quit reply, the SHUTDOWN event) is written before the connection closes.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _session?.BeginClose();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
            await _run.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _endpoint.DisposeAsync().ConfigureAwait(false);
        _fds.Dispose();
        _stopping.Dispose();
    }

    private async Task ServeAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            QmpConnection? connection;
            try
            {
                connection = Interlocked.Exchange(ref _waiting, null) ?? await _endpoint.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                _logger.LogError("Monitor {Label} cannot accept: {Reason}", Label, e.Message);
                return;
            }
            if (connection is null)
                return;
            var session = new QmpSession(connection.Stream, _commands, _options, _version, _logger, connection.Peer, _fds);
            _logger.LogInformation("QMP client {Peer} connected to {Label}", connection.Peer, Label);
            _connection = connection;
            _session = session;
            try
            {
                // Not cancelled by stopping: StopAsync closes the session gracefully instead.
                await session.RunAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "QMP session {Peer} failed", connection.Peer);
            }
            finally
            {
                _session = null;
                _connection = null;
                _logger.LogInformation("QMP client {Peer} disconnected from {Label}", connection.Peer, Label);
            }
        }
    }
}
