using System.Net.Sockets;
using System.Text.Json.Nodes;
using Qmp.Client;

namespace Qmp.Bench;

/// <summary>One source and one destination of the same emulator, one migration over a unix socket.</summary>
internal static class MigrationRun
{
    private static readonly TimeSpan _limit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Starts the destination (<c>-incoming unix:</c>) and the source, waits until the source's
    /// serial output shows <paramref name="readyText"/>, migrates, waits for <c>completed</c>.
    /// </summary>
    public static async Task<MigrationResult> RunAsync(string binary, string kernel, string append, string readyText, long? maxBandwidth)
    {
        var dir = Directory.CreateTempSubdirectory("qmp-bench-mig-").FullName;
        try
        {
            string[] common = ["-nodefaults", "-display", "none", "-m", "1024", "-kernel", kernel, "-append", append];
            await using var destination = CapturedProcess.Start(binary, [.. common, "-serial", "null", "-incoming", $"unix:{dir}/mig.sock",
                "-qmp", $"unix:{dir}/dst.qmp,server=on,wait=off"], keepStdin: true);
            await using var source = CapturedProcess.Start(binary, [.. common, "-serial", $"file:{dir}/src.serial",
                "-qmp", $"unix:{dir}/src.qmp,server=on,wait=off"], keepStdin: true);
            await using var dst = await ConnectAsync($"{dir}/dst.qmp");
            await using var src = await ConnectAsync($"{dir}/src.qmp");
            var deadline = DateTime.UtcNow + _limit;
            while (!(File.Exists($"{dir}/src.serial") && File.ReadAllText($"{dir}/src.serial").Contains(readyText, StringComparison.Ordinal)))
            {
                if (DateTime.UtcNow > deadline || source.Process.HasExited)
                    throw new TimeoutException($"the source guest never printed '{readyText}': {source.Output}");
                await Task.Delay(10);
            }
            if (maxBandwidth is { } bandwidth)
                await src.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = bandwidth });
            await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"unix:{dir}/mig.sock" });
            while (true)
            {
                var info = (await src.ExecuteAsync("query-migrate"))!;
                var status = info["status"]?.GetValue<string>();
                if (status == "completed")
                {
                    var ram = info["ram"];
                    return new MigrationResult(Number(info["total-time"]), Number(info["downtime"]), (long)Number(ram?["transferred"]), (long)Number(ram?["dirty-sync-count"]));
                }
                if (status is "failed" or "cancelled")
                    throw new InvalidOperationException($"migration {status}: {info["error-desc"]?.GetValue<string>()}");
                if (DateTime.UtcNow > deadline)
                {
                    await src.ExecuteAsync("migrate_cancel");
                    throw new TimeoutException($"no convergence in {_limit.TotalSeconds} s ({info["ram"]?["dirty-sync-count"]} syncs)");
                }
                await Task.Delay(5);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // Counters arrive as integers or doubles depending on the emulator's JSON; read either.
    private static double Number(JsonNode? node) =>
        node is null ? double.NaN : double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<QmpClient> ConnectAsync(string path)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
                var client = await QmpClient.ConnectAsync(new NetworkStream(socket, ownsSocket: true));
                await client.NegotiateAsync();
                return client;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                socket.Dispose();
                await Task.Delay(20);
            }
        }
    }
}
