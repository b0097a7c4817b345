using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Qmp.Bench;

/// <summary>The external programs the block benchmark runs: QEMU's qemu-img (if installed) and our qimg (built on demand).</summary>
internal static partial class BlockTools
{
    public static string? QemuImg => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "qemu-img")).FirstOrDefault(File.Exists);

    /// <summary>tools/qimg published ahead of time (as it is deployed: native, no JIT start-up), published now (incrementally).</summary>
    public static async Task<string> FindQimgAsync()
    {
        var project = Path.Combine(Repository.Root("tools/qimg"), "tools", "qimg");
        var output = Path.Combine(project, "bin", "aot");
        Console.WriteLine("publishing tools/qimg (Release, native AOT)...");
        var (exit, log, _) = await RunAsync("dotnet", ["publish", Path.Combine(project, "Qmp.Img.csproj"), "-c", "Release", "-r", "linux-x64", "--nologo", "-v", "q", "-o", output]);
        var binary = Path.Combine(output, "qimg");
        if (exit != 0 || !File.Exists(binary))
            throw new InvalidOperationException($"could not publish tools/qimg:\n{log}");
        return binary;
    }

    /// <summary>Runs a program to completion: exit code, stdout+stderr, wall seconds (process start included).</summary>
    public static async Task<(int Exit, string Output, double Seconds)> RunAsync(string binary, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {binary}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return (process.ExitCode, await stdout + await stderr, seconds);
    }

    /// <summary>Runs a program that must succeed.</summary>
    public static async Task<double> RunCheckedAsync(string binary, params string[] args)
    {
        var (exit, output, seconds) = await RunAsync(binary, args);
        if (exit != 0)
            throw new InvalidOperationException($"{binary} {string.Join(' ', args)} failed (exit {exit}):\n{output}");
        return seconds;
    }

    /// <summary>qemu-img bench: the time it reports ("Run completed in N seconds."), which excludes start-up.</summary>
    public static async Task<double> QemuBenchAsync(string qemuImg, string image, bool write, int count, int depth, int size, long step)
    {
        string[] args = ["bench", "-f", "qcow2", "-c", $"{count}", "-d", $"{depth}", "-s", $"{size}", "-S", $"{step}", "--pattern=165", .. write ? new[] { "-w" } : [], image];
        var (exit, output, _) = await RunAsync(qemuImg, args);
        var match = Completed().Match(output);
        if (exit != 0 || !match.Success)
            throw new InvalidOperationException($"qemu-img {string.Join(' ', args)} failed (exit {exit}):\n{output}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"Run completed in ([0-9.]+) seconds")]
    private static partial Regex Completed();
}
