using Qmp.Client;

namespace Qmp.Functional.Tests;

/// <summary>
/// Differential tests: the same bytes go to QEMU (7.2 here, the reference) and to qmpd; the
/// replies must be identical, byte for byte.
/// </summary>
public class QemuComparisonTests
{
    private static readonly string[] _requests =
    [
        """{"execute":"query-status","id":1}""",
        """{"exec-oob":"query-status","id":2}""",
        """{"execute":"qmp_capabilities","arguments":{"enable":["foo"]},"id":3}""",
        """{"execute":"qmp_capabilities","id":"cap1"}""",
        """{"execute":"qmp_capabilities","id":4}""",
        "[1,2,3]",
        "\"hello\"",
        "{}",
        """{"arguments":{},"id":10}""",
        """{"execute":42,"id":11}""",
        """{"execute":"query-status","arguments":[1],"id":12}""",
        """{"execute":"query-status","arguments":null,"id":13}""",
        """{"execute":"query-status","foo":1,"id":9}""",
        """{"execute":"query-status","arguments":{"foo":1},"id":8}""",
        "{bad json}",
        """{ "execute": }""",
        """{"execute":"query-name","id":20,"id":21}""",
        """{"execute":"no-such-cmd","id":7}""",
        """{"execute":"query-name","id":"\u00e9\ud83d\ude00"}""",
        """{"execute":"query-name","id":{"a":[1,2,null],"b":true}}""",
        """{"execute":"query-name","id":1.5e3}""",
        """{"execute":"query-name","id":0.1}""",
        """{"execute":"query-name","id":-0}""",
        """{"execute":"query-name","id":"a\/b"}""",
        """{"execute":"query-name","id":12345678901234567890}""",
        """{'execute':'query-name','id':'single'}""",
        """{"execute":"query-status","exec-oob":"query-status","id":14}""",
        """{"execute":"human-monitor-command","arguments":{"command-line":"bogus"},"id":15}""",
        """{"execute":"human-monitor-command","id":16}""",
        """{"execute":"human-monitor-command","arguments":{"command-line":7},"id":17}""",
        """{"execute":"human-monitor-command","arguments":{"command-line":"info status","cpu-index":1.5},"id":18}""",
        """{"execute":"query-uuid"}""",
        """{"execute":"stop","id":19}""",
        """{"execute":"query-kvm","arguments":{"x":1},"id":21}""",
    ];

    [Fact]
    public async Task Replies_to_the_same_requests_match_QEMU_byte_for_byte()
    {
        var qemu = Qmpd.FindTool("qemu-system-x86_64", "qemu-system-x86");
        var dir = Qmpd.TempDir();
        var qemuSocket = Path.Combine(dir, "qemu.sock");
        var qmpdSocket = Path.Combine(dir, "qmpd.sock");
        await using var reference = CapturedProcess.Start(qemu, ["-machine", "none", "-nodefaults", "-display", "none", "-S", "-qmp", $"unix:{qemuSocket},server=on,wait=off"], keepStdin: true);
        await using var qmpd = Qmpd.Start(["-S", "-qmp", $"unix:{qmpdSocket},server=on,wait=off"]);
        using var qemuConnection = new RawQmpConnection(await Qmpd.ConnectUnixAsync(qemuSocket));
        using var qmpdConnection = new RawQmpConnection(await Qmpd.ConnectUnixAsync(qmpdSocket));
        await qemuConnection.ReadLineAsync();
        await qmpdConnection.ReadLineAsync();
        foreach (var request in _requests)
        {
            await qemuConnection.SendAsync(request + "\n");
            await qmpdConnection.SendAsync(request + "\n");
            var expected = await qemuConnection.ReadLineAsync();
            var actual = await qmpdConnection.ReadLineAsync();
            Assert.True(expected == actual, $"request: {request}\nQEMU: {expected}\nqmpd: {actual}");
        }
        Directory.Delete(dir, recursive: true);
    }
}
