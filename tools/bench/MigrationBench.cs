using System.Globalization;
using Qmp.Client;

namespace Qmp.Bench;

/// <summary>
/// qmp-bench migrate [--rounds N] [--only qemu|qmpd] [--scenario TEXT] [--log] [--qmpd PATH]: live migration over a unix socket, source
/// and destination on this host, for three guests with 1 GiB of RAM: idle (the demo guest, RAM
/// almost all zero pages), fully written (tools/guests/migration writing every page once, then
/// halted; bandwidth cap lifted) and dirtying (the migration guest rewriting 98 MiB nonstop; cap
/// lifted). Reports the medians of query-migrate's total-time and downtime, of the time the guest ran nowhere
/// (the source's STOP to the destination's RESUME, by event timestamps) and the bytes sent,
/// for QEMU (qemu-system-i386 TCG, when installed) and for qmpd when it can migrate (its column
/// says why not otherwise). qmpd is published as deployed (ReadyToRun) unless --qmpd names a binary.
/// migration-block.md §0 has QEMU's figures on these machines.
/// </summary>
internal static class MigrationBench
{
    /// <summary>A guest to migrate: what to run, when it is ready, and the parameters to set first.</summary>
    private sealed record Scenario(string Name, string Guest, string Append, string ReadyText, long? MaxBandwidth);

    private static readonly Scenario[] _scenarios =
    [
        new("1 GiB idle", "demo", "", "heartbeat 1", null),
        new("1 GiB written, cap lifted", "migration", "end=1023 passes=1", "PASS", 100_000_000_000),
        new("1 GiB, 98 MiB dirtying, cap lifted", "migration", "", "ABB", 100_000_000_000),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 3;
        string? only = null;
        string? scenarioFilter = null;
        var log = false;
        string? qmpd = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--only": only = args[++i]; break;
                case "--scenario": scenarioFilter = args[++i]; break;
                case "--log": log = true; break;
                case "--qmpd": qmpd = Path.GetFullPath(args[++i]); break;
                default: Console.Error.WriteLine($"qmp-bench migrate: unknown option {args[i]}"); return 2;
            }
        }
        var guests = Directory.CreateTempSubdirectory("qmp-bench-migrate-").FullName;
        try
        {
            await Repository.BuildGuestsAsync(guests, "demo", "migration");
            var emulators = new List<(string Name, string Binary)>();
            var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "qemu-system-i386")).FirstOrDefault(File.Exists);
            if (qemu is null)
                Console.WriteLine("qemu-system-i386 not installed: QEMU column skipped (tools/setup.sh installs it)");
            else if (only is null or "qemu")
                emulators.Add(("qemu 7.2", qemu));
            if (only is null or "qmpd")
                emulators.Add(("qmpd", qmpd ?? await Repository.PublishQmpdAsync()));
            Console.WriteLine($"{Environment.ProcessorCount} cores, {rounds} rounds, unix socket, medians of query-migrate's figures");
            Console.WriteLine($"{"scenario",-36} {"emulator",-9} {"total ms",9} {"downtime ms",12} {"stop-resume",12} {"MB sent",9} {"syncs",6}  (each round: total/downtime)");
            foreach (var scenario in _scenarios)
            {
                if (scenarioFilter is not null && !scenario.Name.Contains(scenarioFilter, StringComparison.OrdinalIgnoreCase))
                    continue;
                foreach (var (name, binary) in emulators)
                {
                    var runs = new List<MigrationResult>();
                    string? failure = null;
                    for (var round = 0; round < rounds && failure is null; round++)
                    {
                        try
                        {
                            var run = await MigrationRun.RunAsync(binary, Path.Combine(guests, scenario.Guest + ".elf"), scenario.Append, scenario.ReadyText, scenario.MaxBandwidth);
                            runs.Add(run);
                            if (log)
                                Console.WriteLine($"--- {scenario.Name}, {name}, round {round + 1}: {run.TotalMs} / {run.DowntimeMs} ms\n{run.Log}");
                        }
                        catch (Exception e) when (e is InvalidOperationException or QmpCommandException or IOException or TimeoutException)
                        {
                            failure = e.Message.Split('\n')[0];
                        }
                    }
                    if (failure is not null)
                    {
                        Console.WriteLine($"{scenario.Name,-36} {name,-9} n/a: {failure}");
                        continue;
                    }
                    Console.WriteLine($"{scenario.Name,-36} {name,-9} {Stats.Median(runs.Select(r => r.TotalMs)),9:F0} {Stats.Median(runs.Select(r => r.DowntimeMs)),12:F0} "
                        + $"{Stats.Median(runs.Select(r => r.StopToResumeMs)),12:F0} {Stats.Median(runs.Select(r => r.Transferred / 1e6)),9:F1} {Stats.Median(runs.Select(r => (double)r.Syncs)),6:F0}  "
                        + string.Join(" ", runs.Select(r => $"{r.TotalMs:F0}/{r.DowntimeMs:F0}")));
                }
            }
            return 0;
        }
        finally
        {
            Directory.Delete(guests, recursive: true);
        }
    }
}
