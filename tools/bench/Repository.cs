using System.Diagnostics;

namespace Qmp.Bench;

/// <summary>What the benchmarks take from the repository: the guest programs and qmpd as it is deployed.</summary>
internal static class Repository
{
    /// <summary>The directory holding Qmp.sln, found upwards from the bench's own binary.</summary>
    public static string Root(string needed)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Qmp.sln")))
            root = root.Parent;
        return root?.FullName ?? throw new InvalidOperationException($"run qmp-bench from the repository ({needed} is needed)");
    }

    /// <summary>Builds the named programs of tools/guests into <paramref name="output"/> (name.elf).</summary>
    public static async Task BuildGuestsAsync(string output, params string[] guests)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(Root("tools/guests"), "tools", "guests", "build.sh"));
        start.ArgumentList.Add(output);
        foreach (var guest in guests)
            start.ArgumentList.Add(guest);
        using var build = Process.Start(start)!;
        await build.StandardOutput.ReadToEndAsync();
        await build.WaitForExitAsync();
        if (build.ExitCode != 0)
            throw new InvalidOperationException("tools/guests/build.sh failed");
    }

    /// <summary>
    /// qmpd published the way deploy/README.md deploys it (Release, ReadyToRun for linux-x64), published now
    /// (incrementally): the JIT-only build beside the bench pays seconds of compilation in the figures.
    /// </summary>
    public static async Task<string> PublishQmpdAsync()
    {
        var project = Path.Combine(Root("src/Qmp.Daemon"), "src", "Qmp.Daemon");
        var output = Path.Combine(project, "bin", "r2r");
        Console.WriteLine("publishing qmpd (Release, ReadyToRun, as deploy/README.md)...");
        var (exit, log, _) = await BlockTools.RunAsync("dotnet", ["publish", Path.Combine(project, "Qmp.Daemon.csproj"), "-c", "Release", "-r", "linux-x64", "--nologo", "-v", "q", "-o", output]);
        var binary = Path.Combine(output, "qmpd");
        if (exit != 0 || !File.Exists(binary))
            throw new InvalidOperationException($"could not publish qmpd:\n{log}");
        return binary;
    }
}
