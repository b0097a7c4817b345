using System.Net.Sockets;

namespace Qmp.Monitor;

/// <summary>Reaches the socket under a stream, where there is one.</summary>
internal static class StreamExtensions
{
    public static Socket? Socket(this Stream stream) => (stream as NetworkStream)?.Socket;
}
