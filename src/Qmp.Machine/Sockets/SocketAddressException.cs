namespace Qmp.Machine.Sockets;

/// <summary>A socket address that cannot be resolved, bound or used, with QEMU's text for the reason.</summary>
public sealed class SocketAddressException(string message, Exception? inner = null) : Exception(message, inner);
