using System.Diagnostics;

namespace Qmp.Block.Tests.Core;

/// <summary>Runs QEMU 7.2's qemu-img and qemu-io, the reference for image locking interop.</summary>
internal static class QemuTools
{
    public static string QemuImg => Find("qemu-img");

    public static string QemuIo => Find("qemu-io");

    /// <summary>Runs <paramref name="tool"/> to completion; the output is stdout followed by stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string tool, params string[] arguments)
    {
        using var process = Start(tool, arguments, redirectInput: false);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{tool} {string.Join(' ', arguments)} did not exit within 30 s");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    public static Process Start(string tool, IEnumerable<string> arguments, bool redirectInput)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {tool}");
    }

    private static string Find(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = Path.Combine(directory, name);
            if (System.IO.File.Exists(candidate))
                return candidate;
        }
        Assert.Fail($"{name} (QEMU 7.2) is not installed: run tools/setup.sh, which installs qemu-utils");
        return name;
    }
}
