using System.Text.Json.Nodes;
using Qmp.Client;

namespace Qmp.Functional.Tests;

/// <summary>
/// blockdev-backup while the disk guest (mode=loop) keeps rewriting its disk: the backup is the disk as it was
/// when the job started, and kill -9 in the middle of a backup leaves the images sound.
/// </summary>
public sealed class BackupGuestTests(GuestBuild guests) : IClassFixture<GuestBuild>
{
    private const string Sectors = "32768";

    // The reference is taken in the same instant as the backup starts: a snapshot in the same transaction freezes
    // the disk's image, the backup copies the new overlay the guest goes on writing (every write copies first).
    [Fact]
    public async Task Backup_is_the_disk_as_of_job_start_while_the_guest_writes()
    {
        var dir = Qmpd.TempDir();
        var disk = Path.Combine(dir, "disk.qcow2");
        var target = Path.Combine(dir, "backup.qcow2");
        var overlay = Path.Combine(dir, "overlay.qcow2");
        await QemuImg("create", "-q", "-f", "qcow2", disk, "16M");
        await QemuImg("create", "-q", "-f", "qcow2", target, "16M");
        var (process, client, serial) = await StartAsync(dir, disk);
        await using (process)
        await using (client)
        {
            await WaitForPassAsync(serial, 1);
            await client.ExecuteAsync("blockdev-add", Qcow2("tgt", target));
            var completed = client.WaitEventAsync("BLOCK_JOB_COMPLETED");
            await client.ExecuteAsync("transaction", new JsonObject
            {
                ["actions"] = new JsonArray(
                    new JsonObject { ["type"] = "blockdev-snapshot-sync", ["data"] = new JsonObject { ["node-name"] = "d0", ["snapshot-file"] = overlay, ["snapshot-node-name"] = "ov" } },
                    new JsonObject { ["type"] = "blockdev-backup", ["data"] = new JsonObject { ["job-id"] = "b0", ["device"] = "ov", ["target"] = "tgt", ["sync"] = "full", ["speed"] = 4 << 20 } }),
            });
            var writesAtStart = await GuestWritesAsync(client);
            var done = await completed.WaitAsync(TimeSpan.FromSeconds(120));
            Assert.Null(done.Data!["error"]);
            // The guest went on writing while the backup ran (each pass writes new data over the whole range).
            var writesDuring = await GuestWritesAsync(client) - writesAtStart;
            Assert.True(writesDuring > 100, $"only {writesDuring} guest writes while the backup ran");
            await client.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = "tgt" });
            await client.ExecuteAsync("quit");
            await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(0, (await QemuImg("compare", "-f", "qcow2", "-F", "qcow2", disk, target)).Exit);
        Assert.Equal(1, (await QemuImg("compare", "-f", "qcow2", "-F", "qcow2", overlay, target)).Exit);
        Assert.Equal(0, (await QemuImg("check", "-q", target)).Exit);
        Assert.Equal(0, (await QemuImg("check", "-q", disk)).Exit);
        Directory.Delete(dir, recursive: true);
    }

    // compress: the copy lands in the target as compressed clusters qemu-img reads back; a raw target is refused.
    [Fact]
    public async Task Compressed_backup_is_the_disk_as_of_job_start_while_the_guest_writes()
    {
        var dir = Qmpd.TempDir();
        var disk = Path.Combine(dir, "disk.qcow2");
        var target = Path.Combine(dir, "backup.qcow2");
        var rawTarget = Path.Combine(dir, "backup.raw");
        var overlay = Path.Combine(dir, "overlay.qcow2");
        await QemuImg("create", "-q", "-f", "qcow2", disk, "16M");
        await QemuImg("create", "-q", "-f", "qcow2", target, "16M");
        await QemuImg("create", "-q", "-f", "raw", rawTarget, "16M");
        var (process, client, serial) = await StartAsync(dir, disk);
        await using (process)
        await using (client)
        {
            await WaitForPassAsync(serial, 1);
            await client.ExecuteAsync("blockdev-add", new JsonObject { ["driver"] = "raw", ["node-name"] = "traw", ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = rawTarget } });
            var refused = await Assert.ThrowsAsync<QmpCommandException>(() => client.ExecuteAsync("blockdev-backup", new JsonObject { ["job-id"] = "b0", ["device"] = "d0", ["target"] = "traw", ["sync"] = "full", ["compress"] = true }));
            Assert.Equal(("GenericError", "Compression is not supported for this drive "), (refused.ErrorClass, refused.Description));
            await client.ExecuteAsync("blockdev-add", Qcow2("tgt", target));
            var completed = client.WaitEventAsync("BLOCK_JOB_COMPLETED");
            await client.ExecuteAsync("transaction", new JsonObject
            {
                ["actions"] = new JsonArray(
                    new JsonObject { ["type"] = "blockdev-snapshot-sync", ["data"] = new JsonObject { ["node-name"] = "d0", ["snapshot-file"] = overlay, ["snapshot-node-name"] = "ov" } },
                    new JsonObject { ["type"] = "blockdev-backup", ["data"] = new JsonObject { ["job-id"] = "b0", ["device"] = "ov", ["target"] = "tgt", ["sync"] = "full", ["compress"] = true, ["speed"] = 4 << 20 } }),
            });
            var done = await completed.WaitAsync(TimeSpan.FromSeconds(120));
            Assert.Null(done.Data!["error"]);
            await client.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = "tgt" });
            await client.ExecuteAsync("quit");
            await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(0, (await QemuImg("compare", "-f", "qcow2", "-F", "qcow2", disk, target)).Exit);
        var (exit, output) = await QemuImg("check", "--output=json", target);
        Assert.True(exit == 0, output);
        Assert.True(System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("compressed-clusters").GetInt64() > 0, output);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Kill_9_in_the_middle_of_a_backup_leaves_the_disk_intact()
    {
        var dir = Qmpd.TempDir();
        var disk = Path.Combine(dir, "disk.qcow2");
        var target = Path.Combine(dir, "backup.qcow2");
        await QemuImg("create", "-q", "-f", "qcow2", disk, "16M");
        await QemuImg("create", "-q", "-f", "qcow2", target, "16M");
        var (process, client, serial) = await StartAsync(dir, disk);
        await using (process)
        await using (client)
        {
            await WaitForPassAsync(serial, 1);
            await client.ExecuteAsync("blockdev-add", Qcow2("tgt", target));
            await client.ExecuteAsync("blockdev-backup", new JsonObject { ["job-id"] = "b0", ["device"] = "d0", ["target"] = "tgt", ["sync"] = "full", ["speed"] = 2 << 20 });
            await Task.Delay(1500);
            var jobs = (await client.ExecuteAsync("query-block-jobs"))!.AsArray();
            Assert.Equal("running", jobs.Single()!["status"]!.GetValue<string>());
            await process.KillAsync();
        }
        // The disk was fully allocated by the first pass, so the guest's writes and the backup's reads change no
        // metadata: the image is clean. The half-written target may leak clusters, but has no errors.
        Assert.Equal(0, (await QemuImg("check", "-q", disk)).Exit);
        Assert.Contains((await QemuImg("check", "-q", target)).Exit, new[] { 0, 3 });
        Directory.Delete(dir, recursive: true);
    }

    private async Task<(CapturedProcess Process, QmpClient Client, string Serial)> StartAsync(string dir, string disk)
    {
        var socketPath = Path.Combine(dir, "qmp.sock");
        var serialPath = Path.Combine(dir, "serial.txt");
        var process = Qmpd.Start([
            "-nodefaults", "-display", "none", "-serial", $"file:{serialPath}", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-blockdev", Qcow2("d0", disk).ToJsonString(), "-device", "virtio-blk-pci,drive=d0,disable-legacy=on",
            "-kernel", guests.Elf("disk"), "-append", $"mode=loop start=0 sectors={Sectors}", "-qmp", $"unix:{socketPath},server=on,wait=off"]);
        var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        return (process, client, serialPath);
    }

    private static async Task<long> GuestWritesAsync(QmpClient client) =>
        (await client.ExecuteAsync("query-blockstats"))!.AsArray().Sum(d => d!["stats"]!["wr_operations"]!.GetValue<long>());

    private static JsonObject Qcow2(string name, string path) => new()
    {
        ["driver"] = "qcow2",
        ["node-name"] = name,
        ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = path },
    };

    private static int Passes(string serialPath) =>
        File.Exists(serialPath) ? File.ReadAllLines(serialPath).Count(l => l.StartsWith("pass ", StringComparison.Ordinal)) : 0;

    private static async Task WaitForPassAsync(string serialPath, int pass)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (Passes(serialPath) < pass)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the guest never finished pass {pass}:\n{(File.Exists(serialPath) ? File.ReadAllText(serialPath) : "")}");
            await Task.Delay(50);
        }
    }

    private static async Task<(int Exit, string Output)> QemuImg(params string[] args)
    {
        var tool = Qmpd.FindTool("qemu-img", "qemu-utils");
        await using var process = CapturedProcess.Start(tool, args);
        return (await process.WaitForExitAsync(), process.Output);
    }
}
