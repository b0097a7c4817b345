using System.Text.Json.Nodes;
using Qmp.Client;

namespace Qmp.Functional.Tests;

/// <summary>
/// The migration guest (tools/guests/migration) and its memory check: migrated live over a unix
/// socket between two QEMU 7.2 processes, and between two qmpd processes, the destination keeps
/// the invariant and runs on; qmpd running it shows progress on serial and leaves memory that
/// pmemsave dumps consistently.
/// </summary>
public sealed class MigrationGuestTests(GuestBuild guests) : IClassFixture<GuestBuild>
{
    /// <summary>'B' markers on a serial file, not counting the banner's ("MiB").</summary>
    private static int Markers(string path)
    {
        if (!File.Exists(path))
            return 0;
        var text = File.ReadAllText(path);
        if (text.StartsWith("migration guest", StringComparison.Ordinal))
            text = text.Contains('\n') ? text[(text.IndexOf('\n') + 1)..] : "";
        return text.Count(c => c == 'B');
    }

    private static async Task WaitForMarkersAsync(string path, int count, CapturedProcess process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Markers(path) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {count} markers in {path}:\n{(File.Exists(path) ? File.ReadAllText(path) : "")}\n{process.Output}");
            Assert.False(process.Process.HasExited, "the emulator exited:\n" + process.Output);
            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData("qemu")]
    [InlineData("qmpd")]
    public async Task Migration_over_unix_leaves_the_destination_consistent_and_running(string emulator)
    {
        var qemu = emulator == "qmpd" ? Qmpd.Binary : Qmpd.FindTool("qemu-system-i386", "qemu-system-x86");
        var dir = Qmpd.TempDir();
        string[] common = ["-nodefaults", "-display", "none", "-m", "128", "-kernel", guests.Elf("migration")];
        await using var destination = CapturedProcess.Start(qemu, [.. common, "-serial", $"file:{dir}/dst.serial",
            "-incoming", $"unix:{dir}/mig.sock", "-qmp", $"unix:{dir}/dst.qmp,server=on,wait=off"], keepStdin: true);
        await using var source = CapturedProcess.Start(qemu, [.. common, "-serial", $"file:{dir}/src.serial",
            "-qmp", $"unix:{dir}/src.qmp,server=on,wait=off"], keepStdin: true);
        await using var src = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync($"{dir}/src.qmp"), ownsSocket: true));
        await using var dst = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync($"{dir}/dst.qmp"), ownsSocket: true));
        await src.NegotiateAsync();
        await dst.NegotiateAsync();
        await WaitForMarkersAsync($"{dir}/src.serial", 2, source);
        // The bandwidth cap lifted, as QEMU's tests do to converge with a guest dirtying 98 MiB.
        await src.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 100_000_000_000L });
        await src.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"unix:{dir}/mig.sock" });
        JsonNode info;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((info = (await src.ExecuteAsync("query-migrate"))!)["status"]!.GetValue<string>() is not ("completed" or "failed"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the migration did not finish: " + info.ToJsonString());
            await Task.Delay(20);
        }
        Assert.Equal("completed", info["status"]!.GetValue<string>());
        // The guest runs on at the destination: its serial port goes on printing markers.
        await WaitForMarkersAsync($"{dir}/dst.serial", Markers($"{dir}/dst.serial") + 1, destination);
        await dst.ExecuteAsync("stop");
        await dst.ExecuteAsync("pmemsave", new JsonObject { ["val"] = 0, ["size"] = 128 << 20, ["filename"] = $"{dir}/dst.mem" });
        var result = MigrationGuestCheck.CheckFile($"{dir}/dst.mem");
        Assert.True(result.Ok, result.ToString());
        Assert.Equal(25088, result.Pages);
        await src.ExecuteAsync("quit");
        await dst.ExecuteAsync("quit");
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Qmpd_runs_the_guest_with_progress_on_serial_and_pmemsave_shows_consistent_memory()
    {
        var dir = Qmpd.TempDir();
        await using var qmpd = Qmpd.Start(["-nodefaults", "-display", "none", "-m", "128", "-kernel", guests.Elf("migration"), "-append", "end=32",
            "-serial", $"file:{dir}/serial", "-qmp", $"unix:{dir}/qmp.sock,server=on,wait=off"]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync($"{dir}/qmp.sock"), ownsSocket: true));
        await client.NegotiateAsync();
        await WaitForMarkersAsync($"{dir}/serial", 3, qmpd);
        Assert.StartsWith("migration guest: pages 2 MiB - 32 MiB (7680 pages)\nAB", File.ReadAllText($"{dir}/serial"), StringComparison.Ordinal);
        await client.ExecuteAsync("stop");
        var passes = Markers($"{dir}/serial");
        await client.ExecuteAsync("pmemsave", new JsonObject { ["val"] = 0, ["size"] = 32 << 20, ["filename"] = $"{dir}/mem" });
        var result = MigrationGuestCheck.CheckFile($"{dir}/mem", 0, MigrationGuestCheck.DefaultStart, 32L << 20);
        Assert.True(result.Ok, result.ToString());
        Assert.Equal(7680, result.Pages);
        // Stopped after `passes` markers, mid-pass at most one further: the first page has passes or passes + 1.
        Assert.InRange(result.FirstByte, (byte)passes, (byte)(passes + 1));
        await client.ExecuteAsync("quit");
        Directory.Delete(dir, recursive: true);
    }
}
