using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Qmp.Client;

namespace Qmp.Bench;

/// <summary>
/// qmp-bench cpu [--rounds N] [--iterations N]: boots tools/guests/bench (checksums, sorting, a
/// sieve and string handling in C at -O2, about 8.2 million instructions per iteration) with
/// -kernel on qmpd and on qemu-system-i386 TCG, rounds alternating, and reports the median wall
/// time and guest MIPS of each. qmpd reports how many instructions the guest retired; QEMU runs
/// the same program (plus a few million instructions of SeaBIOS, under 0.3 %).
/// </summary>
internal static partial class CpuBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 3;
        var iterations = 243;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--iterations": iterations = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"qmp-bench cpu: unknown option {args[i]}"); return 2;
            }
        }
        var guests = Directory.CreateTempSubdirectory("qmp-bench-guests-").FullName;
        try
        {
            await Repository.BuildGuestsAsync(guests, "bench");
            var elf = Path.Combine(guests, "bench.elf");
            // The JIT build, not the ReadyToRun publish: precompiled code leaves tiering only through calls, and the
            // interpreter's long-running loop can stay in its less optimised ReadyToRun form.
            var qmpd = Path.Combine(AppContext.BaseDirectory, "qmpd");
            var qemu = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "qemu-system-i386")).FirstOrDefault(File.Exists);
            if (qemu is null)
                Console.WriteLine("qemu-system-i386 not installed: QEMU column skipped (tools/setup.sh installs it)");
            string[] common = ["-nodefaults", "-display", "none", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", elf, "-append", $"iterations={iterations}"];
            var qmpdTimes = new List<double>();
            var qemuTimes = new List<double>();
            long instructions = 0;
            string? checksum = null;
            Console.WriteLine($"{Environment.ProcessorCount} cores, {rounds} rounds, bench guest with {iterations} iterations");
            for (var round = 0; round < rounds; round++)
            {
                var (seconds, output) = await TimeAsync(qmpd, common);
                qmpdTimes.Add(seconds);
                instructions = long.Parse(Retired().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
                checksum = Checksum().Match(output).Value;
                Console.WriteLine($"  round {round + 1}: qmpd {seconds:F2} s ({checksum})");
                if (qemu is not null)
                {
                    var (qemuSeconds, qemuOutput) = await TimeAsync(qemu, ["-accel", "tcg", .. common]);
                    qemuTimes.Add(qemuSeconds);
                    Console.WriteLine($"  round {round + 1}: qemu {qemuSeconds:F2} s ({Checksum().Match(qemuOutput).Value})");
                }
            }
            var qmpdMedian = Stats.Median(qmpdTimes);
            Console.WriteLine();
            Console.WriteLine($"guest instructions retired (qmpd's count): {instructions:N0}");
            Console.WriteLine($"{"emulator",-10} {"wall s (median)",16} {"guest MIPS",12}");
            Console.WriteLine($"{"qmpd",-10} {qmpdMedian,16:F2} {instructions / qmpdMedian / 1e6,12:F0}");
            if (qemuTimes.Count > 0)
            {
                var qemuMedian = Stats.Median(qemuTimes);
                Console.WriteLine($"{"qemu tcg",-10} {qemuMedian,16:F2} {instructions / qemuMedian / 1e6,12:F0}");
                Console.WriteLine();
                Console.WriteLine($"qmpd runs the guest at {qemuMedian / qmpdMedian:F3} of QEMU TCG's speed (1/{qmpdMedian / qemuMedian:F1})");
            }
            return 0;
        }
        finally
        {
            Directory.Delete(guests, recursive: true);
        }
    }

    private static async Task<(double Seconds, string Output)> TimeAsync(string binary, IEnumerable<string> args)
    {
        var started = Stopwatch.GetTimestamp();
        await using var process = CapturedProcess.Start(binary, args);
        var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(10));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (exit != 1 || !process.Output.Contains("PASS", StringComparison.Ordinal))
            throw new InvalidOperationException($"{binary} did not run the bench guest to PASS (exit {exit}):\n{process.Output}");
        return (seconds, process.Output);
    }

    [GeneratedRegex(@"after (\d+) instructions")]
    private static partial Regex Retired();

    [GeneratedRegex(@"checksum: [0-9a-f]+")]
    private static partial Regex Checksum();
}
