using System.Diagnostics;

namespace Qmp.Functional.Tests;

/// <summary>The README's socat session, run as an operator would type it.</summary>
public class SocatTests
{
    [Fact]
    public async Task Readme_socat_session_works()
    {
        var socat = Qmpd.FindTool("socat", "socat");
        var dir = Qmpd.TempDir();
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start(["-name", "demo", "-qmp", $"unix:{socketPath},server=on,wait=off"]);
        (await Qmpd.ConnectUnixAsync(socketPath)).Dispose();
        var start = new ProcessStartInfo(socat) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-", $"UNIX-CONNECT:{socketPath}" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteLineAsync("""{"execute": "qmp_capabilities"}""");
        await process.StandardInput.WriteLineAsync("""{"execute": "query-status"}""");
        await process.StandardInput.WriteLineAsync("""{"execute": "stop"}""");
        await process.StandardInput.WriteLineAsync("""{"execute": "quit"}""");
        var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));
        var lines = output.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}", lines[0], StringComparison.Ordinal);
        Assert.Equal("""{"return": {}}""", lines[1]);
        Assert.Equal("""{"return": {"status": "running", "running": true}}""", lines[2]);
        Assert.EndsWith("\"event\": \"STOP\"}", lines[3], StringComparison.Ordinal);
        Assert.Equal("""{"return": {}}""", lines[4]);
        Assert.Contains("\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-quit\"}", lines[5], StringComparison.Ordinal);
        Assert.Equal("""{"return": {}}""", lines[6]);
        Assert.Equal(0, await qmpd.WaitForExitAsync());
    }
}
