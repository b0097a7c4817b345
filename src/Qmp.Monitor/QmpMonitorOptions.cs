namespace Qmp.Monitor;

/// <summary>How one monitor talks: pretty output, whether OOB is offered.</summary>
public sealed record QmpMonitorOptions
{
    /// <summary><c>pretty=on</c>: indented output, CRLF on every line.</summary>
    public bool Pretty { get; init; }

    /// <summary>Offer the <c>oob</c> capability in the greeting (QEMU does on sockets, not on stdio).</summary>
    public bool OfferOob { get; init; } = true;

    /// <summary>
    /// After the client stops sending (EOF), how long commands already received may still run and
    /// answer, as QEMU answers a half-closed client; then they are cancelled so a vanished client
    /// cannot hold the monitor.
    /// </summary>
    public TimeSpan DisconnectGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>In-band requests queued before qmpd stops reading the socket (QEMU's 8).</summary>
    public int InBandQueueLimit { get; init; } = 8;
}
