using Qmp.Client;
using System.Net.Sockets;
using System.Text;

namespace Qmp.Bench;

/// <summary>A QMP server process (qmpd or QEMU) on a unix socket, negotiated and ready.</summary>
internal sealed class QmpEndpointUnderTest : IAsyncDisposable
{
    private readonly CapturedProcess? _process;
    private readonly string _dir;

    private QmpEndpointUnderTest(string name, CapturedProcess? process, string dir, Socket socket)
    {
        Name = name;
        _process = process;
        _dir = dir;
        Socket = socket;
    }

    public string Name { get; }

    public Socket Socket { get; }

    public static async Task<QmpEndpointUnderTest> StartAsync(string name, string binary, IEnumerable<string> args, Func<string, Task>? serve = null)
    {
        var dir = Directory.CreateTempSubdirectory("qmp-bench-").FullName;
        var path = Path.Combine(dir, "qmp.sock");
        CapturedProcess? process = null;
        if (serve is not null)
            _ = serve(path);
        else
            process = CapturedProcess.Start(binary, args.Select(a => a.Replace("$SOCK", path, StringComparison.Ordinal)), keepStdin: true);
        var socket = await ConnectAsync(path);
        var endpoint = new QmpEndpointUnderTest(name, process, dir, socket);
        await endpoint.ReadLinesAsync(1); // greeting
        await endpoint.SendAsync("{\"execute\":\"qmp_capabilities\"}\n");
        await endpoint.ReadLinesAsync(1);
        return endpoint;
    }

    private static async Task<Socket> ConnectAsync(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
                return socket;
            }
            catch (SocketException) when (attempt < 400)
            {
                socket.Dispose();
                await Task.Delay(25);
            }
        }
    }

    public async Task SendAsync(string text) => await Socket.SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await Socket.SendAsync(bytes);

    private readonly byte[] _buffer = new byte[1 << 20];
    private int _carry;

    /// <summary>Reads until <paramref name="count"/> more CRLF-terminated lines have arrived.</summary>
    public async Task ReadLinesAsync(int count)
    {
        while (count > 0)
        {
            var read = await Socket.ReceiveAsync(_buffer.AsMemory(_carry));
            if (read == 0)
                throw new IOException($"{Name} closed the connection");
            var end = _carry + read;
            var lastLineEnd = -1;
            for (var i = 0; i < end; i++)
            {
                if (_buffer[i] == '\n')
                {
                    count--;
                    lastLineEnd = i;
                }
            }
            _carry = end - (lastLineEnd + 1);
            if (_carry > 0)
                Buffer.BlockCopy(_buffer, lastLineEnd + 1, _buffer, 0, _carry);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await SendAsync("{\"execute\":\"quit\"}\n");
        }
        catch (SocketException)
        {
            // Already gone.
        }
        Socket.Dispose();
        if (_process is not null)
        {
            await ((Task)_process.WaitForExitAsync(TimeSpan.FromSeconds(5))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _process.DisposeAsync();
        }
        Directory.Delete(_dir, recursive: true);
    }
}
