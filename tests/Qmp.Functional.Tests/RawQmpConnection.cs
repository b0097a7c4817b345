using System.Net.Sockets;
using System.Text;

namespace Qmp.Functional.Tests;

/// <summary>Byte-level QMP over a socket: send text, read CRLF-terminated lines exactly as sent.</summary>
internal sealed class RawQmpConnection(Socket socket) : IDisposable
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: true);
    private readonly List<byte> _pending = [];

    public Socket Socket => socket;

    public Task SendAsync(string text) => _stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

    public async Task<string> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var buffer = new byte[4096];
        while (true)
        {
            for (var i = 1; i < _pending.Count; i++)
            {
                if (_pending[i - 1] == '\r' && _pending[i] == '\n')
                {
                    var line = Encoding.ASCII.GetString(_pending.GetRange(0, i - 1).ToArray());
                    _pending.RemoveRange(0, i + 1);
                    return line;
                }
            }
            var read = await _stream.ReadAsync(buffer, cts.Token);
            if (read == 0)
                throw new EndOfStreamException("connection closed; pending: " + Encoding.ASCII.GetString(_pending.ToArray()));
            _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }

    /// <summary>True when the server closes the connection (EOF) within the timeout.</summary>
    public async Task<bool> ClosedAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var buffer = new byte[1];
        try
        {
            return _pending.Count == 0 && await _stream.ReadAsync(buffer, cts.Token) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose() => _stream.Dispose();
}
