using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Qmp.Bench;

/// <summary>
/// qmp-bench qmp [--rounds N] [--latency-iterations N] [--pipelined N] [--warmup-ms N]
/// Sequential query-status round trips and pipelined throughput over a unix socket, for qmpd,
/// QEMU (qemu-system-x86_64 -M none, when installed) and a canned-reply server (the ceiling).
/// Each figure is the median of several rounds; all servers are measured in the same run. The
/// pipelined batch is large (200,000) so that start-up and JIT tier-up do not dominate it.
/// </summary>
internal static class QmpBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 5;
        var latencyIterations = 2000;
        var pipelined = 200000;
        var warmup = TimeSpan.FromSeconds(2);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--latency-iterations": latencyIterations = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--pipelined": pipelined = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--warmup-ms": warmup = TimeSpan.FromMilliseconds(int.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                default: Console.Error.WriteLine($"qmp-bench: unknown option {args[i]}"); return 2;
            }
        }

        var qmpdBinary = Path.Combine(AppContext.BaseDirectory, "qmpd");
        var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "qemu-system-x86_64")).FirstOrDefault(File.Exists);
        var targets = new List<(string Name, Func<Task<QmpEndpointUnderTest>> Start)>
        {
            ("qmpd", () => QmpEndpointUnderTest.StartAsync("qmpd", qmpdBinary, ["-nodefaults", "-qmp", "unix:$SOCK,server=on,wait=off"])),
        };
        if (qemu is not null)
            targets.Add(("qemu", () => QmpEndpointUnderTest.StartAsync("qemu", qemu, ["-machine", "none", "-nodefaults", "-display", "none", "-qmp", "unix:$SOCK,server=on,wait=off"])));
        else
            Console.WriteLine("qemu-system-x86_64 not installed: QEMU column skipped (tools/setup.sh installs it)");
        targets.Add(("canned", () => QmpEndpointUnderTest.StartAsync("canned", "", [], CannedReplyServer.ServeAsync)));

        var request = Encoding.ASCII.GetBytes("{\"execute\":\"query-status\"}\n");
        var latency = targets.ToDictionary(t => t.Name, _ => new List<double>());
        var throughput = targets.ToDictionary(t => t.Name, _ => new List<double>());
        Console.WriteLine($"{Environment.ProcessorCount} cores, {rounds} rounds, {latencyIterations} round trips and {pipelined} pipelined commands per round");
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (name, start) in targets)
            {
                await using var endpoint = await start();
                // Warm-up: a daemon's users meet its steady state, so measure after the JIT's tiering
                // has promoted the hot path (call counting plus a 100 ms delay, then a background
                // compile). Every server gets the same warm-up.
                var warm = Stopwatch.StartNew();
                while (warm.Elapsed < warmup)
                {
                    await endpoint.SendAsync(request);
                    await endpoint.ReadLinesAsync(1);
                }
                var samples = new double[latencyIterations];
                for (var i = 0; i < latencyIterations; i++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    await endpoint.SendAsync(request);
                    await endpoint.ReadLinesAsync(1);
                    samples[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                }
                Array.Sort(samples);
                latency[name].Add(samples[samples.Length / 2]);

                var batch = Enumerable.Repeat(request, pipelined).SelectMany(b => b).ToArray();
                var started = Stopwatch.GetTimestamp();
                var reading = endpoint.ReadLinesAsync(pipelined);
                for (var offset = 0; offset < batch.Length; offset += 64 * 1024)
                    await endpoint.Socket.SendAsync(batch.AsMemory(offset, Math.Min(64 * 1024, batch.Length - offset)));
                await reading;
                throughput[name].Add(pipelined / Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }


        Console.WriteLine();
        Console.WriteLine($"{"server",-8} {"round trip µs (median)",24} {"pipelined cmds/s (median)",28}");
        foreach (var (name, _) in targets)
            Console.WriteLine($"{name,-8} {Median(latency[name]),24:F1} {Median(throughput[name]),28:N0}");
        if (latency.ContainsKey("qemu"))
        {
            Console.WriteLine();
            Console.WriteLine($"qmpd vs QEMU: round trip {Median(latency["qemu"]) / Median(latency["qmpd"]):F1}x faster, pipelined {Median(throughput["qmpd"]) / Median(throughput["qemu"]):F1}x higher");
        }
        Console.WriteLine($"qmpd vs canned-reply ceiling: round trip {Median(latency["qmpd"]) / Median(latency["canned"]):F1}x slower, pipelined {Median(throughput["canned"]) / Median(throughput["qmpd"]):F1}x lower");
        return 0;
    }

    private static double Median(List<double> values) => Stats.Median(values);
}
