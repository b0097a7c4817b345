using Qmp.Client;
using static Qmp.Functional.Tests.DiskGuestTools;

namespace Qmp.Functional.Tests;

/// <summary>
/// Images qmpd writes under a running guest stay what qemu-img expects: the same bytes QEMU writes,
/// through backing chains, across a snapshot taken mid-write, and repairable after a kill -9.
/// </summary>
public sealed class DiskImageTests(GuestBuild guests) : IClassFixture<GuestBuild>
{
    private const string Range = "start=64 sectors=6000 seed=11";

    [Fact]
    public async Task Overlay_written_by_qmpd_equals_the_raw_image_qemu_writes()
    {
        var dir = Qmpd.TempDir();
        var reference = Path.Combine(dir, "reference.raw");
        var basePath = Path.Combine(dir, "base.raw");
        var overlay = Path.Combine(dir, "overlay.qcow2");
        await Img("create", "-q", "-f", "raw", reference, "8M");
        await Img("create", "-q", "-f", "raw", basePath, "8M");
        await Img("create", "-q", "-f", "qcow2", "-b", basePath, "-F", "raw", overlay);
        Assert.Equal(1, await RunAsync(Qmpd.FindTool("qemu-system-i386", "qemu-system-x86"), dir, $"mode=write {Range}", "-drive", $"file={reference},format=raw,if=none,id=d0"));

        Assert.Equal(1, await RunAsync(Qmpd.Binary, dir, $"mode=write {Range}", "-drive", $"file={overlay},format=qcow2,if=none,id=d0"));

        Assert.Equal(0, (await Tool("qemu-img", "check", "-q", overlay)).Exit);
        var compare = await Tool("qemu-img", "compare", "-f", "raw", "-F", "qcow2", reference, overlay);
        Assert.True(compare.Exit == 0, compare.Output);
        Directory.Delete(dir, recursive: true);
    }

    // blockdev-snapshot-sync drains the disk while the guest keeps writing, then the guest goes on in the overlay.
    [Fact]
    public async Task Snapshot_taken_while_the_guest_writes_leaves_consistent_images()
    {
        var dir = Qmpd.TempDir();
        var image = Path.Combine(dir, "disk.qcow2");
        var snapshot = Path.Combine(dir, "snap.qcow2");
        await Img("create", "-q", "-f", "qcow2", image, "8M");
        var serialPath = Path.Combine(dir, "serial.txt");
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start([.. GuestArgs(serialPath, $"mode=loop {Range}"), "-qmp", $"unix:{socketPath},server=on,wait=off",
            "-drive", $"file={image},format=qcow2,if=none,id=d0"]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        await WaitForPassAsync(serialPath, 2, qmpd);

        await client.ExecuteAsync("blockdev-snapshot-sync", new() { ["device"] = "d0", ["snapshot-file"] = snapshot, ["snapshot-node-name"] = "snap1", ["format"] = "qcow2" });
        var passes = Passes(serialPath);
        await WaitForPassAsync(serialPath, passes + 2, qmpd);

        var block = (await client.ExecuteAsync("query-block"))!.AsArray().Single()!;
        Assert.Equal("snap1", block["inserted"]!["node-name"]!.GetValue<string>());
        Assert.Equal(image, block["inserted"]!["backing_file"]!.GetValue<string>());
        await client.ExecuteAsync("quit");
        await qmpd.WaitForExitAsync();
        Assert.Equal(0, (await Tool("qemu-img", "check", "-q", image)).Exit);
        Assert.Equal(0, (await Tool("qemu-img", "check", "-q", snapshot)).Exit);
        var info = await Tool("qemu-img", "info", snapshot);
        Assert.Contains($"backing file: {image}", info.Output, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    // qmpd killed in the middle of guest writes: the image may leak clusters, never be corrupt.
    [Fact]
    public async Task Image_killed_mid_write_has_at_most_leaks_and_repairs_clean()
    {
        var dir = Qmpd.TempDir();
        var image = Path.Combine(dir, "disk.qcow2");
        var basePath = Path.Combine(dir, "base.raw");
        await Img("create", "-q", "-f", "raw", basePath, "8M");
        await Img("create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", "-b", basePath, "-F", "raw", image);
        var serialPath = Path.Combine(dir, "serial.txt");
        await using (var qmpd = Qmpd.Start([.. GuestArgs(serialPath, $"mode=loop {Range}"), "-drive", $"file={image},format=qcow2,if=none,id=d0"]))
        {
            await WaitForPassAsync(serialPath, 1, qmpd);
            qmpd.Process.Kill();
            await qmpd.WaitForExitAsync();
        }

        var check = await Tool("qemu-img", "check", image);
        Assert.True(check.Exit is 0 or 3, $"qemu-img check exited {check.Exit}:\n{check.Output}");
        Assert.Equal(0, (await Tool("qemu-img", "check", "-q", "-r", "all", image)).Exit);
        Assert.Equal(0, (await Tool("qemu-img", "check", "-q", image)).Exit);
        Directory.Delete(dir, recursive: true);
    }

    private string[] GuestArgs(string serialPath, string append) => DiskGuestTools.GuestArgs(guests, serialPath, append);

    private async Task<int> RunAsync(string binary, string dir, string append, params string[] drive)
    {
        var serialPath = Path.Combine(dir, "serial.txt");
        await using var process = CapturedProcess.Start(binary, [.. GuestArgs(serialPath, append), .. drive]);
        var exit = await process.WaitForExitAsync();
        File.Delete(serialPath);
        return exit;
    }

    private static Task WaitForPassAsync(string serialPath, int passes, CapturedProcess process) =>
        DiskGuestTools.WaitForPassAsync(serialPath, passes, process, TimeSpan.FromSeconds(60));
}
