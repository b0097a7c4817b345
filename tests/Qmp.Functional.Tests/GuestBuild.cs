using System.Diagnostics;

namespace Qmp.Functional.Tests;

/// <summary>Builds the guest programs of tools/guests once per test run (gcc -m32, about a second).</summary>
public sealed class GuestBuild : IAsyncLifetime
{
    /// <summary>The repository root (the directory holding Qmp.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Where the guests' ELF files are.</summary>
    public string Directory { get; } = Qmpd.TempDir();

    /// <summary>The ELF file of <paramref name="guest"/>.</summary>
    public string Elf(string guest) => Path.Combine(Directory, guest + ".elf");

    /// <summary>The serial output QEMU produced for <paramref name="name"/>, kept in tools/guests/expected.</summary>
    public static string Expected(string name) => File.ReadAllText(Path.Combine(RepositoryRoot, "tools", "guests", "expected", name + ".txt"));

    public async Task InitializeAsync()
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot, "tools", "guests", "build.sh"));
        start.ArgumentList.Add(Directory);
        using var build = Process.Start(start)!;
        var output = build.StandardOutput.ReadToEndAsync();
        var errors = build.StandardError.ReadToEndAsync();
        await build.WaitForExitAsync();
        Assert.True(build.ExitCode == 0, $"tools/guests/build.sh failed:\n{await output}{await errors}");
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Qmp.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("cannot find the repository root (Qmp.sln) above " + AppContext.BaseDirectory);
    }
}
