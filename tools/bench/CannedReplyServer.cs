using System.Net.Sockets;
using System.Text;

namespace Qmp.Bench;

/// <summary>
/// The ceiling: a server that greets, then answers every newline-terminated line with one fixed
/// reply without parsing anything. No QMP server on this machine can be faster.
/// </summary>
internal static class CannedReplyServer
{
    private static readonly byte[] _greeting = Encoding.ASCII.GetBytes("{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");
    private static readonly byte[] _reply = Encoding.ASCII.GetBytes("{\"return\": {\"status\": \"running\", \"running\": true}}\r\n");

    public static async Task ServeAsync(string path)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var client = await listener.AcceptAsync();
        await client.SendAsync(_greeting);
        var buffer = new byte[1 << 16];
        var replies = new byte[_reply.Length * 4096];
        while (true)
        {
            var read = await client.ReceiveAsync(buffer);
            if (read == 0)
                return;
            var lines = buffer.AsSpan(0, read).Count((byte)'\n');
            var offset = 0;
            for (var i = 0; i < lines; i++, offset += _reply.Length)
                _reply.CopyTo(replies, offset);
            try
            {
                await client.SendAsync(replies.AsMemory(0, offset));
            }
            catch (SocketException)
            {
                return;
            }
        }
    }
}
