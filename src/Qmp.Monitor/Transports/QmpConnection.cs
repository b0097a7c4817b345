namespace Qmp.Monitor.Transports;

/// <summary>A connected client: its byte stream and a printable peer name.</summary>
/// <param name="Stream">Bidirectional stream; the session owns and disposes it.</param>
/// <param name="Peer">Peer address for logs and query-chardev.</param>
public sealed record QmpConnection(Stream Stream, string Peer);
