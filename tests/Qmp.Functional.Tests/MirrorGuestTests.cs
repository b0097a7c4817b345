using Qmp.Client;
using static Qmp.Functional.Tests.DiskGuestTools;

namespace Qmp.Functional.Tests;

/// <summary>
/// drive-mirror while the disk guest (mode=loop) keeps rewriting its disk: after the pivot the target equals the
/// source as it was at the pivot, the guest goes on through the target, and qemu-img checks it clean; a cancel
/// after READY leaves the same point-in-time copy without a pivot; a kill -9 mid-mirror leaves the source intact.
/// </summary>
public sealed class MirrorGuestTests(GuestBuild guests) : IClassFixture<GuestBuild>
{
    private const string Range = "start=64 sectors=6000 seed=9";

    [Fact]
    public async Task Mirror_under_a_writing_guest_pivots_onto_a_copy_equal_to_the_source_at_the_pivot()
    {
        var dir = Qmpd.TempDir();
        var source = Path.Combine(dir, "disk.raw");
        var target = Path.Combine(dir, "copy.qcow2");
        await Img("create", "-q", "-f", "raw", source, "8M");
        var serialPath = Path.Combine(dir, "serial.txt");
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start([.. GuestArgs(serialPath), "-qmp", $"unix:{socketPath},server=on,wait=off",
            "-drive", $"file={source},format=raw,if=none,id=d0"]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        await WaitForPassAsync(serialPath, 1, qmpd);

        var ready = client.WaitEventAsync("BLOCK_JOB_READY");
        await client.ExecuteAsync("drive-mirror", new() { ["device"] = "d0", ["target"] = target, ["format"] = "qcow2", ["sync"] = "full", ["auto-finalize"] = false });
        await ready.WaitAsync(TimeSpan.FromSeconds(60));
        // The guest keeps writing while the job mirrors its writes.
        await WaitForPassAsync(serialPath, Passes(serialPath) + 2, qmpd);
        var pending = client.WaitEventAsync("BLOCK_JOB_PENDING");
        await client.ExecuteAsync("job-complete", new() { ["id"] = "d0" });
        await pending.WaitAsync(TimeSpan.FromSeconds(60));
        // Pending, the job holds the source drained (the guest's I/O waits): the target, flushed when the job
        // converged, equals the source, and the pivot comes next.
        var compare = await Tool("qemu-img", "compare", "-U", "-f", "raw", "-F", "qcow2", source, target);
        Assert.True(compare.Exit == 0, compare.Output);
        var completed = client.WaitEventAsync("BLOCK_JOB_COMPLETED");
        await client.ExecuteAsync("job-finalize", new() { ["id"] = "d0" });
        var done = await completed.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(done.Data!["error"]);
        var block = (await client.ExecuteAsync("query-block"))!.AsArray().Single()!;
        Assert.Equal(target, block["inserted"]!["file"]!.GetValue<string>());

        await WaitForPassAsync(serialPath, Passes(serialPath) + 2, qmpd);
        await client.ExecuteAsync("quit");
        await qmpd.WaitForExitAsync();
        Assert.DoesNotContain("FAIL", File.ReadAllText(serialPath), StringComparison.Ordinal);
        Assert.Equal(0, (await Tool("qemu-img", "check", "-q", target)).Exit);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Cancel_after_ready_leaves_a_copy_equal_to_the_source_and_no_pivot()
    {
        var dir = Qmpd.TempDir();
        var source = Path.Combine(dir, "disk.raw");
        var target = Path.Combine(dir, "copy.qcow2");
        await Img("create", "-q", "-f", "raw", source, "8M");
        var serialPath = Path.Combine(dir, "serial.txt");
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start([.. GuestArgs(serialPath), "-qmp", $"unix:{socketPath},server=on,wait=off",
            "-drive", $"file={source},format=raw,if=none,id=d0"]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        await WaitForPassAsync(serialPath, 1, qmpd);

        var ready = client.WaitEventAsync("BLOCK_JOB_READY");
        await client.ExecuteAsync("drive-mirror", new() { ["device"] = "d0", ["job-id"] = "m0", ["target"] = target, ["sync"] = "full", ["format"] = "qcow2", ["copy-mode"] = "write-blocking", ["auto-finalize"] = false });
        await ready.WaitAsync(TimeSpan.FromSeconds(60));
        await WaitForPassAsync(serialPath, Passes(serialPath) + 1, qmpd);
        var pending = client.WaitEventAsync("BLOCK_JOB_PENDING");
        await client.ExecuteAsync("block-job-cancel", new() { ["device"] = "m0" });
        await pending.WaitAsync(TimeSpan.FromSeconds(60));
        // Converged and held drained: the point-in-time copy equals the source.
        var compare = await Tool("qemu-img", "compare", "-U", "-f", "raw", "-F", "qcow2", source, target);
        Assert.True(compare.Exit == 0, compare.Output);
        var completed = client.WaitEventAsync("BLOCK_JOB_COMPLETED");
        await client.ExecuteAsync("job-finalize", new() { ["id"] = "m0" });
        var done = await completed.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Null(done.Data!["error"]);
        var block = (await client.ExecuteAsync("query-block"))!.AsArray().Single()!;
        Assert.Equal(source, block["inserted"]!["file"]!.GetValue<string>());
        // The target was closed with the job.
        Assert.Equal(0, (await Tool("qemu-img", "check", "-q", target)).Exit);

        await WaitForPassAsync(serialPath, Passes(serialPath) + 1, qmpd);
        await client.ExecuteAsync("quit");
        await qmpd.WaitForExitAsync();
        Assert.DoesNotContain("FAIL", File.ReadAllText(serialPath), StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Mirror_killed_midway_leaves_the_source_intact()
    {
        var dir = Qmpd.TempDir();
        var source = Path.Combine(dir, "disk.qcow2");
        var target = Path.Combine(dir, "copy.qcow2");
        await Img("create", "-q", "-f", "qcow2", source, "8M");
        var serialPath = Path.Combine(dir, "serial.txt");
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using (var qmpd = Qmpd.Start([.. GuestArgs(serialPath), "-qmp", $"unix:{socketPath},server=on,wait=off",
            "-drive", $"file={source},format=qcow2,if=none,id=d0"]))
        {
            await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
            await client.NegotiateAsync();
            await WaitForPassAsync(serialPath, 1, qmpd);
            await client.ExecuteAsync("drive-mirror", new() { ["device"] = "d0", ["job-id"] = "m0", ["target"] = target, ["sync"] = "full", ["speed"] = 1 << 20 });
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while ((await client.ExecuteAsync("query-jobs"))!.AsArray().Single()!["current-progress"]!.GetValue<long>() < 1 << 20)
            {
                Assert.True(DateTime.UtcNow < deadline, "the mirror made no progress");
                await Task.Delay(20);
            }
            qmpd.Process.Kill();
            await qmpd.WaitForExitAsync();
        }

        // The source took guest writes only: checked clean or with leaks (unflushed refcounts), and it reads back whole.
        var check = await Tool("qemu-img", "check", source);
        Assert.True(check.Exit is 0 or 3, $"qemu-img check {source} exited {check.Exit}:\n{check.Output}");
        Assert.Equal(0, (await Tool("qemu-img", "convert", "-f", "qcow2", "-O", "raw", source, Path.Combine(dir, "after.raw"))).Exit);
        var info = await Tool("qemu-img", "info", source);
        Assert.DoesNotContain("backing file", info.Output, StringComparison.Ordinal);
        Directory.Delete(dir, recursive: true);
    }

    private string[] GuestArgs(string serialPath) => DiskGuestTools.GuestArgs(guests, serialPath, $"mode=loop {Range}");

    private static Task WaitForPassAsync(string serialPath, int passes, CapturedProcess process) =>
        DiskGuestTools.WaitForPassAsync(serialPath, passes, process, TimeSpan.FromSeconds(90));
}
