namespace Qmp.Client;

/// <summary>A graceful shutdown was asked for but did not happen; the process was killed. The cause is inside.</summary>
public sealed class AbnormalShutdownException(string message, Exception cause) : Exception(message, cause);
