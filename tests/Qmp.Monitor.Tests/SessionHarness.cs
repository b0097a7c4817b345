using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Nerdbank.Streams;
using Qmp.Monitor.Protocol;
using Qmp.Schema;
using Qmp.Schema.Json;

namespace Qmp.Monitor.Tests;

/// <summary>A session on one end of an in-memory duplex stream; the test is the client on the other end.</summary>
internal sealed class SessionHarness : IAsyncDisposable
{
    private readonly Stream _client;
    private readonly JsonStreamParser _parser = new();
    private readonly Queue<string> _received = new();
    private readonly byte[] _buffer = new byte[65536];

    public SessionHarness(QmpMonitorOptions? options = null, TestCommands? commands = null)
    {
        Commands = commands ?? new TestCommands();
        var (client, server) = FullDuplexStream.CreatePair();
        _client = client;
        var version = new VersionInfo { Qemu = new VersionTriple { Major = 10, Minor = 0, Micro = 0 }, Package = "test" };
        Session = new QmpSession(server, Commands.Table(), options ?? new QmpMonitorOptions(), version, NullLogger.Instance, "test");
        Run = Session.RunAsync(CancellationToken.None);
    }

    public TestCommands Commands { get; }

    public QmpSession Session { get; }

    public Task Run { get; }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _client.WriteAsync(bytes);
        await _client.FlushAsync();
    }

    /// <summary>The next server message, exactly as sent (compact messages keep their CRLF).</summary>
    public async Task<string> ReceiveRawAsync()
    {
        var line = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var one = new byte[1];
        while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            var read = await _client.ReadAsync(one, timeout.Token);
            if (read == 0)
                throw new EndOfStreamException("closed; partial: " + line);
            line.Append((char)one[0]);
        }
        return line.ToString();
    }

    /// <summary>The next compact message without its CRLF.</summary>
    public async Task<string> ReceiveAsync() => (await ReceiveRawAsync())[..^2];

    /// <summary>Reads a pretty-printed message (many lines) by parsing the stream.</summary>
    public async Task<string> ReceivePrettyAsync()
    {
        var text = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (_received.Count == 0)
        {
            var read = await _client.ReadAsync(_buffer, timeout.Token);
            if (read == 0)
                throw new EndOfStreamException();
            text.Append(Encoding.ASCII.GetString(_buffer, 0, read));
            if (_parser.Feed(_buffer.AsSpan(0, read)).Count > 0)
                _received.Enqueue(text.ToString());
        }
        return _received.Dequeue();
    }

    public async Task NegotiateAsync(bool oob = false)
    {
        await ReceiveAsync(); // greeting
        await SendAsync(oob ? """{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}""" : """{"execute":"qmp_capabilities"}""");
        Assert.Equal("""{"return": {}}""", await ReceiveAsync());
    }

    public void Emit(string name, System.Text.Json.Nodes.JsonObject? data = null) =>
        Session.Deliver(new QmpEventMessage(new TestEvent(name, data), DateTimeOffset.FromUnixTimeMilliseconds(1_795_374_402_063)));

    public async Task<bool> ClosedAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = await _client.ReadAsync(_buffer, timeout.Token);
        return read == 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
