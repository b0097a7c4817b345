using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Qmp.Machine;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Tests;

/// <summary>chardev-add with QEMU's inet options (to, ipv4, ipv6, numeric), with QEMU 7.2's replies.</summary>
public sealed class ChardevInetTests : IDisposable
{
    private readonly Machine.Machine _machine = new(new MachineConfig { Name = "chardev-inet", StartPaused = true });
    private readonly CharCommands _chars;

    public ChardevInetTests() => _chars = new CharCommands(_machine);

    public void Dispose() => _machine.Dispose();

    private Task AddAsync(string id, JsonObject inet) =>
        _chars.ChardevAddAsync(ChardevAddArguments.FromJson(new JsonObject
        {
            ["id"] = id,
            ["backend"] = new JsonObject
            {
                ["type"] = "socket",
                ["data"] = new JsonObject { ["addr"] = new JsonObject { ["type"] = "inet", ["data"] = inet }, ["server"] = true, ["wait"] = false },
            },
        }), CancellationToken.None).AsTask();

    [Fact]
    public async Task A_server_with_to_listens_on_the_next_free_port_and_shows_it()
    {
        using var busy = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        busy.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        busy.Listen(1);
        var port = ((IPEndPoint)busy.LocalEndPoint!).Port;
        await AddAsync("a1", new JsonObject { ["host"] = "127.0.0.1", ["port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["to"] = JsonNode.Parse((port + 20).ToString(System.Globalization.CultureInfo.InvariantCulture)) });
        var filename = (await _chars.QueryChardevAsync(CancellationToken.None)).Single(c => c.Label == "a1").Filename;
        var shown = int.Parse(filename.Split(':')[3].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal($"disconnected:tcp:127.0.0.1:{shown},server=on", filename);
        Assert.InRange(shown, port + 1, port + 20);

        var e = await Assert.ThrowsAsync<QmpErrorException>(() => AddAsync("a2", new JsonObject { ["host"] = "127.0.0.1", ["port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        Assert.Equal("Failed to add chardev 'a2': Failed to find an available port: Address already in use", e.Message);
    }

    [Fact]
    public async Task Address_family_options_are_refused_as_QEMU_refuses_them()
    {
        var e = await Assert.ThrowsAsync<QmpErrorException>(() => AddAsync("a5", new JsonObject { ["host"] = "127.0.0.1", ["port"] = "45115", ["ipv4"] = false, ["ipv6"] = false }));
        Assert.Equal("Failed to add chardev 'a5': Cannot disable IPv4 and IPv6 at same time", e.Message);
        e = await Assert.ThrowsAsync<QmpErrorException>(() => AddAsync("a6", new JsonObject { ["host"] = "127.0.0.1", ["port"] = "45116", ["ipv6"] = true }));
        Assert.Equal("Failed to add chardev 'a6': address resolution failed for 127.0.0.1:45116: Address family for hostname not supported", e.Message);
        e = await Assert.ThrowsAsync<QmpErrorException>(() => AddAsync("a4", new JsonObject { ["host"] = "localhost", ["port"] = "45114", ["numeric"] = true }));
        Assert.Equal("Failed to add chardev 'a4': address resolution failed for localhost:45114: Name or service not known", e.Message);
        Assert.DoesNotContain(await _chars.QueryChardevAsync(CancellationToken.None), c => c.Label.StartsWith('a'));
    }
}
