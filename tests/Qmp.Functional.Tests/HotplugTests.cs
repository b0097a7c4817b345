using System.Text.Json.Nodes;
using Qmp.Client;

namespace Qmp.Functional.Tests;

/// <summary>
/// device_add/device_del of a virtio-blk disk into a pcie-root-port: the hotplug guest services the slot
/// as it does on QEMU, failed device_adds leave no trace, and a disk's node is held until DEVICE_DELETED.
/// </summary>
public sealed class HotplugTests
{
    // tools/guests/hotplug-qemu.sh drives QMP and compares the guest's serial output with QEMU's (expected/hotplug*.txt).
    [Theory]
    [InlineData("basic")]
    [InlineData("refuse")]
    [InlineData("cycle")]
    public async Task Hotplug_guest_services_the_slot_as_on_qemu(string scenario)
    {
        var dir = Qmpd.TempDir();
        var script = Path.Combine(GuestBuild.RepositoryRoot, "tools", "guests", "hotplug-qemu.sh");
        var start = new System.Diagnostics.ProcessStartInfo("bash", [script, scenario])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["QEMU"] = Qmpd.Binary;
        start.Environment["GUEST_OUT"] = Path.Combine(dir, "guests");
        start.Environment["TMPDIR"] = dir;
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(process.ExitCode == 0, $"hotplug-qemu.sh {scenario} exited {process.ExitCode}:\n{await output}\n{await errors}");
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Failed_device_add_leaves_no_trace_and_the_node_is_held_until_device_deleted()
    {
        var dir = Qmpd.TempDir();
        var image = Path.Combine(dir, "disk.raw");
        await File.WriteAllBytesAsync(image, new byte[1 << 20]);
        var socketPath = Path.Combine(dir, "qmp.sock");
        await using var qmpd = Qmpd.Start(["-nodefaults", "-S", "-qmp", $"unix:{socketPath},server=on,wait=off",
            "-device", "pcie-root-port,id=rp1,chassis=1", "-blockdev", $"driver=raw,node-name=d0,file.driver=file,file.filename={image}"]);
        await using var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socketPath), ownsSocket: true));
        await client.NegotiateAsync();
        async Task<string> State() =>
            (await client.ExecuteAsync("query-pci"))!.ToJsonString() + (await client.ExecuteAsync("qom-list", new() { ["path"] = "/machine/peripheral" }))!.ToJsonString();
        var before = await State();

        (JsonObject Arguments, string Error)[] failures =
        [
            (new() { ["driver"] = "virtio-blk-pci", ["id"] = "vd0", ["drive"] = "d0", ["bus"] = "rp1", ["bogus"] = 1 }, "Property 'virtio-blk-pci.bogus' not found"),
            (new() { ["driver"] = "virtio-blk-pci", ["id"] = "vd0", ["drive"] = "nope", ["bus"] = "rp1" }, "Property 'virtio-blk-device.drive' can't find value 'nope'"),
            (new() { ["driver"] = "virtio-blk-pci", ["id"] = "vd0", ["bus"] = "rp1" }, "drive property not set"),
            (new() { ["driver"] = "virtio-blk-pci", ["id"] = "vd0", ["drive"] = "d0", ["bus"] = "pci.0" }, "Bus 'pci.0' does not support hotplugging"),
            (new() { ["driver"] = "virtio-blk-pci", ["id"] = "vd0", ["drive"] = "d0", ["bus"] = "nobus" }, "Bus 'nobus' not found"),
            (new() { ["driver"] = "isa-debug-exit", ["id"] = "x0" }, "Bus 'isa.0' does not support hotplugging"),
            (new() { ["driver"] = "no-such-dev", ["id"] = "x1" }, "'no-such-dev' is not a valid device model name"),
            (new() { ["driver"] = "virtio-blk-pci", ["id"] = "rp1", ["drive"] = "d0", ["bus"] = "rp1" }, "Duplicate device ID 'rp1'"),
        ];
        foreach (var (arguments, error) in failures)
        {
            var e = await Assert.ThrowsAsync<QmpCommandException>(() => client.ExecuteAsync("device_add", arguments));
            Assert.Equal(error, e.Description);
            Assert.Equal(before, await State());
        }

        await client.ExecuteAsync("device_add", new() { ["driver"] = "virtio-blk-pci", ["id"] = "vd0", ["drive"] = "d0", ["bus"] = "rp1" });
        Assert.NotEqual(before, await State());
        var inUse = await Assert.ThrowsAsync<QmpCommandException>(() => client.ExecuteAsync("blockdev-del", new() { ["node-name"] = "d0" }));
        Assert.Equal("Node d0 is in use", inUse.Description);

        // The guest never powered the slot on (-S), so removal needs no cooperation: DEVICE_DELETED comes at once.
        var child = client.WaitEventAsync("DEVICE_DELETED");
        await client.ExecuteAsync("device_del", new() { ["id"] = "vd0" });
        Assert.Equal("/machine/peripheral/vd0/virtio-backend", (await child.WaitAsync(TimeSpan.FromSeconds(30))).Data!["path"]!.GetValue<string>());
        var device = await client.WaitEventAsync("DEVICE_DELETED").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("vd0", device.Data!["device"]!.GetValue<string>());
        Assert.Equal("/machine/peripheral/vd0", device.Data["path"]!.GetValue<string>());
        Assert.Equal(before, await State());
        await client.ExecuteAsync("blockdev-del", new() { ["node-name"] = "d0" });
        await client.ExecuteAsync("quit");
        await qmpd.WaitForExitAsync();
        Directory.Delete(dir, recursive: true);
    }
}
