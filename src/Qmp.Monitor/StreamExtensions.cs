using System.Net.Sockets;
using Qmp.Monitor.Transports;

namespace Qmp.Monitor;

/// <summary>Reaches the socket under a stream, where there is one.</summary>
internal static class StreamExtensions
{
    public static Socket? Socket(this Stream stream) => stream switch
    {
        SocketStream s => s.Socket,
        NetworkStream n => n.Socket,
        _ => null,
    };
}
