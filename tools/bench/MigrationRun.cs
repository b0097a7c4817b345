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
            using var events = new CancellationTokenSource();
            var stopped = src.WaitEventAsync("STOP", events.Token);
            var resumed = dst.WaitEventAsync("RESUME", events.Token);
            await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"unix:{dir}/mig.sock" });
            while (true)
            {
                var info = (await src.ExecuteAsync("query-migrate"))!;
                var status = info["status"]?.GetValue<string>();
                if (status == "completed")
                {
                    var ram = info["ram"];
                    events.CancelAfter(TimeSpan.FromSeconds(5));
                    var stopToResume = double.NaN;
                    try
                    {
                        stopToResume = ((await resumed).Timestamp - (await stopped).Timestamp).TotalMilliseconds;
                    }
                    catch (OperationCanceledException)
                    {
                        // An event never came: the column says n/a.
                    }
                    await QuitAsync(src, source);
                    await QuitAsync(dst, destination);
                    return new MigrationResult(Number(info["total-time"]), Number(info["downtime"]), stopToResume, (long)Number(ram?["transferred"]),
                        (long)Number(ram?["dirty-sync-count"]), $"source:\n{source.Output}\ndestination:\n{destination.Output}");
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

    // Ends an emulator so that its output is complete (--log); one that does not go is killed on dispose.
    private static async Task QuitAsync(QmpClient client, CapturedProcess process)
    {
        try
        {
            await client.ExecuteAsync("quit");
            await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is IOException or QmpCommandException or TimeoutException or OperationCanceledException)
        {
            // Disposing the process kills it.
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
