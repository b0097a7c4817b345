using System.Diagnostics;

namespace Qmp.Img.Tests;

/// <summary>Runs qimg (the build of tools/qimg) and the reference, QEMU 7.2's qemu-img and qemu-io, in a scratch directory.</summary>
internal static class Tools
{
    private static readonly Lazy<string> _qimg = new(FindQimg);

    public static string Qimg => _qimg.Value;

    public static string QemuImg => FindOnPath("qemu-img");

    public static string QemuIo => FindOnPath("qemu-io");

    public static Task<ToolRun> QimgAsync(string directory, params string[] args) => RunAsync(Qimg, directory, args);

    public static Task<ToolRun> QemuImgAsync(string directory, params string[] args) => RunAsync(QemuImg, directory, args);

    /// <summary>qemu-io commands on an image (making data and zero clusters the way QEMU does).</summary>
    public static async Task QemuIoAsync(string directory, string image, params string[] commands)
    {
        var args = new List<string>();
        foreach (var command in commands)
            args.AddRange(["-c", command]);
        args.Add(image);
        var run = await RunAsync(QemuIo, directory, [.. args]);
        Assert.True(run.ExitCode == 0, $"qemu-io {string.Join(' ', args)} failed: {run.Stdout}{run.Stderr}");
    }

    /// <summary>Both tools with the same arguments; asserts that exit code and output (modulo the program name) agree.</summary>
    public static async Task<ToolRun> SameAsync(string directory, params string[] args)
    {
        var expected = await QemuImgAsync(directory, args);
        var actual = await QimgAsync(directory, args);
        Assert.Equal(expected.Normalized, actual.Normalized);
        Assert.Equal(expected.ExitCode, actual.ExitCode);
        return actual;
    }

    public static async Task<ToolRun> RunAsync(string binary, string directory, params string[] args)
    {
        var start = new ProcessStartInfo(binary)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        // Dates in snapshot tables print in local time; both tools must use the same zone.
        start.Environment["TZ"] = "UTC";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {binary}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{binary} {string.Join(' ', args)} did not finish within 60 s");
        }
        return new ToolRun(process.ExitCode, await stdout, await stderr);
    }

    private static string FindOnPath(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
                return candidate;
        }
        Assert.Fail($"{name} (QEMU 7.2) is not installed: run tools/setup.sh, which installs qemu-utils");
        return name;
    }

    // The qimg apphost the build put next to the tests (a referenced Exe project is copied with its apphost),
    // else tools/qimg's own output for this configuration.
    private static string FindQimg()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "qimg");
        if (File.Exists(beside))
            return beside;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Qmp.sln")))
            root = root.Parent;
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Debug";
        var built = Path.Combine(root?.FullName ?? ".", "tools", "qimg", "bin", configuration, "net10.0", "qimg");
        Assert.True(File.Exists(built), $"qimg is not built ({built}): dotnet build tools/qimg");
        return built;
    }
}
