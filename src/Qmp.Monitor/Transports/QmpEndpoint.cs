namespace Qmp.Monitor.Transports;

/// <summary>
/// Where a monitor's clients come from: a listening socket (one client at a time), an outgoing
/// connection, or stdio. Listening starts in <see cref="ListenAsync"/>, before the daemon says it
/// is ready, so a client that connects as soon as the socket exists is never refused.
/// </summary>
public abstract class QmpEndpoint : IAsyncDisposable
{
    /// <summary>Whether the greeting offers OOB on this transport.</summary>
    public virtual bool OfferOob => true;

    /// <summary>Binds and listens (servers) or connects (clients).</summary>
    public abstract Task ListenAsync(CancellationToken cancellationToken);

    /// <summary>The next client, or null when this endpoint will never have another.</summary>
    public abstract Task<QmpConnection?> AcceptAsync(CancellationToken cancellationToken);

    /// <summary>QEMU's chardev filename, e.g. <c>unix:/run/qmp.sock,server=on</c>.</summary>
    public abstract string Describe(QmpConnection? current);

    /// <inheritdoc/>
    public abstract ValueTask DisposeAsync();
}
