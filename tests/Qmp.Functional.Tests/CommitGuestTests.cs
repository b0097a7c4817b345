using Qmp.Client;
using static Qmp.Functional.Tests.DiskGuestTools;

namespace Qmp.Functional.Tests;

/// <summary>
/// block-commit of an intermediate image while the disk guest writes to the active layer (mode=loop verifies
/// what it wrote, through the re-pointed chain too), and after a kill -9 of qmpd mid-commit: images that
/// qemu-img checks clean (or with leaks only) and a chain that still reads as before.
/// </summary>
public sealed class CommitGuestTests(GuestBuild guests) : IClassFixture<GuestBuild>
{
    private const string Range = "start=64 sectors=6000 seed=5";

    [Fact]
    public async Task Commit_under_a_writing_guest_leaves_the_base_equal_to_the_committed_chain()
    {
        var dir = Qmpd.TempDir();
        var (active, mid, basePath, expected) = await MakeChainAsync(dir);
        var serialPath = Path.Combine(dir, "serial.txt");
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start([.. GuestArgs(serialPath), "-qmp", $"unix:{socketPath},server=on,wait=off",
            "-drive", $"file={active},format=qcow2,if=none,id=d0"]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        await WaitForPassAsync(serialPath, 1, qmpd);

        var completed = client.WaitEventAsync("BLOCK_JOB_COMPLETED");
        await client.ExecuteAsync("block-commit", new() { ["device"] = "d0", ["top"] = mid, ["speed"] = 4 << 20 });
        var done = await completed.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Null(done.Data!["error"]);
        Assert.Equal("d0", done.Data["device"]!.GetValue<string>());
        // The guest goes on verifying its own writes through the shortened chain.
        await WaitForPassAsync(serialPath, Passes(serialPath) + 2, qmpd);
        var block = (await client.ExecuteAsync("query-block"))!.AsArray().Single()!;
        Assert.Equal(basePath, block["inserted"]!["backing_file"]!.GetValue<string>());
        Assert.Equal(1L, block["inserted"]!["backing_file_depth"]!.GetValue<long>());
        await client.ExecuteAsync("quit");
        await qmpd.WaitForExitAsync();

        Assert.DoesNotContain("FAIL", File.ReadAllText(serialPath), StringComparison.Ordinal);
        Assert.Equal(0, (await Tool("qemu-img", "check", "-q", active)).Exit);
        Assert.Equal(0, (await Tool("qemu-img", "check", "-q", basePath)).Exit);
        var compare = await Tool("qemu-img", "compare", "-f", "raw", "-F", "qcow2", expected, basePath);
        Assert.True(compare.Exit == 0, compare.Output);
        var info = await Tool("qemu-img", "info", active);
        Assert.Contains($"backing file: {basePath}", info.Output, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Commit_killed_midway_leaves_clean_or_leaking_images_and_a_readable_chain()
    {
        var dir = Qmpd.TempDir();
        var (active, mid, basePath, expected) = await MakeChainAsync(dir);
        var serialPath = Path.Combine(dir, "serial.txt");
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using (var qmpd = Qmpd.Start([.. GuestArgs(serialPath), "-qmp", $"unix:{socketPath},server=on,wait=off",
            "-drive", $"file={active},format=qcow2,if=none,id=d0"]))
        {
            await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
            await client.NegotiateAsync();
            await WaitForPassAsync(serialPath, 1, qmpd);
            await client.ExecuteAsync("block-commit", new() { ["device"] = "d0", ["job-id"] = "c0", ["top"] = mid, ["speed"] = 1 << 20 });
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while ((await client.ExecuteAsync("query-jobs"))!.AsArray().Single()!["current-progress"]!.GetValue<long>() < 2 << 20)
            {
                Assert.True(DateTime.UtcNow < deadline, "the commit made no progress");
                await Task.Delay(20);
            }
            qmpd.Process.Kill();
            await qmpd.WaitForExitAsync();
        }

        foreach (var image in new[] { basePath, mid, active })
        {
            var check = await Tool("qemu-img", "check", image);
            Assert.True(check.Exit is 0 or 3, $"qemu-img check {image} exited {check.Exit}:\n{check.Output}");
        }
        // The overlay still names the middle image, and the middle image still reads as before the commit.
        var info = await Tool("qemu-img", "info", "-U", active);
        Assert.Contains($"backing file: {mid}", info.Output, StringComparison.Ordinal);
        var compare = await Tool("qemu-img", "compare", "-f", "raw", "-F", "qcow2", expected, mid);
        Assert.True(compare.Exit == 0, compare.Output);
        Assert.Equal(0, (await Tool("qemu-img", "convert", "-f", "qcow2", "-O", "raw", active, Path.Combine(dir, "after.raw"))).Exit);
        Directory.Delete(dir, recursive: true);
    }

    // base.qcow2 (0x11 over 8 MiB) <- mid.qcow2 (0x22 at 1M..5M, a zero cluster at 6M) <- active.qcow2 (empty); expected.raw is mid's chain.
    private static async Task<(string Active, string Mid, string Base, string Expected)> MakeChainAsync(string dir)
    {
        var basePath = Path.Combine(dir, "base.qcow2");
        var mid = Path.Combine(dir, "mid.qcow2");
        var active = Path.Combine(dir, "active.qcow2");
        var expected = Path.Combine(dir, "expected.raw");
        await Img("create", "-q", "-f", "qcow2", basePath, "8M");
        await Tool("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 8M", basePath);
        await Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "qcow2", mid);
        await Tool("qemu-io", "-f", "qcow2", "-c", "write -P 0x22 1M 4M", "-c", "write -z 6M 64k", mid);
        await Img("create", "-q", "-f", "qcow2", "-b", mid, "-F", "qcow2", active);
        await Img("convert", "-f", "qcow2", "-O", "raw", mid, expected);
        return (active, mid, basePath, expected);
    }

    private string[] GuestArgs(string serialPath) => DiskGuestTools.GuestArgs(guests, serialPath, $"mode=loop {Range}");

    private static Task WaitForPassAsync(string serialPath, int passes, CapturedProcess process) =>
        DiskGuestTools.WaitForPassAsync(serialPath, passes, process, TimeSpan.FromSeconds(90));
}
