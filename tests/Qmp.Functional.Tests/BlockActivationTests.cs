using System.Text.Json.Nodes;
using Qmp.Client;
using Qmp.TestSupport;

namespace Qmp.Functional.Tests;

/// <summary>
/// blockdev-set-active over QMP with the disk guest writing (QEMU 10.0's command): an inactive image is
/// released to other processes, the guest's writes to it are refused, and cont takes it back only once no
/// other process holds it.
/// </summary>
public sealed class BlockActivationTests(GuestBuild guests) : IClassFixture<GuestBuild>, IDisposable
{
    private readonly string _dir = Qmpd.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Inactive_disk_refuses_guest_writes_and_cont_needs_it_back_from_the_other_process()
    {
        var image = Path.Combine(_dir, "disk.raw");
        await DiskGuestTools.Img("create", "-q", "-f", "raw", image, "16M");
        var serial = Path.Combine(_dir, "serial.txt");
        var socket = Path.Combine(_dir, "qmp.sock");
        await using var qmpd = Qmpd.Start([.. DiskGuestTools.GuestArgs(guests, serial, "mode=loop start=64 sectors=2000 seed=3"), "-S",
            "-drive", $"file={image},format=raw,if=none,id=d0,node-name=disk0,werror=stop", "-qmp", $"unix:{socket},server=on,wait=off"]);
        await using var qmp = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socket), ownsSocket: true));
        await qmp.NegotiateAsync();
        var file = (await NodesAsync(qmp)).Single(n => n["drv"]!.GetValue<string>() == "file")["node-name"]!.GetValue<string>();
        Assert.All(await NodesAsync(qmp), n => Assert.True(n["active"]!.GetValue<bool>()));
        Assert.Equal("Failed to find node with node-name='nope'", await RefusalAsync(qmp, "blockdev-set-active", new() { ["node-name"] = "nope", ["active"] = false }));
        Assert.Equal("Node has active parent node", await RefusalAsync(qmp, "blockdev-set-active", new() { ["node-name"] = file, ["active"] = false }));
        await qmp.ExecuteAsync("cont");
        await DiskGuestTools.WaitForPassAsync(serial, 1, qmpd, TimeSpan.FromSeconds(60));

        // Inactivated under the running guest, as QEMU allows: its next write is refused and werror=stop stops it.
        var errorEvent = qmp.WaitEventAsync("BLOCK_IO_ERROR");
        await qmp.ExecuteAsync("blockdev-set-active", new() { ["node-name"] = "disk0", ["active"] = false });
        var error = await errorEvent.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("write", error.Data!["operation"]!.GetValue<string>());
        Assert.Equal("stop", error.Data["action"]!.GetValue<string>());
        await WaitForStatusAsync(qmp, "io-error");
        Assert.All(await NodesAsync(qmp), n => Assert.False(n["active"]!.GetValue<bool>()));
        Assert.Equal("Permission 'resize' unavailable on inactive node",
            await RefusalAsync(qmp, "block_resize", new() { ["node-name"] = "disk0", ["size"] = 32 << 20 }));

        await using (await QemuIoHolder.OpenAsync(Qmpd.FindTool("qemu-io", "qemu-utils"), ["-f", "raw", image]))
        {
            var refused = await RefusalAsync(qmp, "cont", []);
            Assert.Contains("\"write\" lock", refused, StringComparison.Ordinal);
            Assert.Equal("io-error", await StatusAsync(qmp));
            Assert.Contains("\"write\" lock", await RefusalAsync(qmp, "blockdev-set-active", new() { ["active"] = true }), StringComparison.Ordinal);
            Assert.All(await NodesAsync(qmp), n => Assert.False(n["active"]!.GetValue<bool>()));
        }

        await qmp.ExecuteAsync("blockdev-set-active", new() { ["active"] = true });
        Assert.All(await NodesAsync(qmp), n => Assert.True(n["active"]!.GetValue<bool>()));
        await qmp.ExecuteAsync("cont");
        Assert.Equal("running", await StatusAsync(qmp));
        await DiskGuestTools.WaitForPassAsync(serial, DiskGuestTools.Passes(serial) + 1, qmpd, TimeSpan.FromSeconds(60));
        Assert.DoesNotContain("FAIL", File.ReadAllText(serial), StringComparison.Ordinal);
        await qmp.ExecuteAsync("quit");
    }

    private static async Task<List<JsonNode>> NodesAsync(QmpClient qmp) =>
        [.. (await qmp.ExecuteAsync("query-named-block-nodes", new() { ["flat"] = true }))!.AsArray().Select(n => n!)];

    private static async Task<string> RefusalAsync(QmpClient qmp, string command, JsonObject arguments) =>
        (await Assert.ThrowsAsync<QmpCommandException>(() => qmp.ExecuteAsync(command, arguments))).Description;

    private static async Task<string> StatusAsync(QmpClient qmp) =>
        (await qmp.ExecuteAsync("query-status"))!["status"]!.GetValue<string>();

    private static async Task WaitForStatusAsync(QmpClient qmp, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await StatusAsync(qmp) != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the machine never reached {status}");
            await Task.Delay(20);
        }
    }
}
