using System.Net.Sockets;
using System.Text.Json.Nodes;
using Qmp.Client;
using Qmp.TestSupport;

namespace Qmp.Functional.Tests;

/// <summary>
/// Block nodes that fail to inactivate or to reactivate around a migration, from real causes: a commit job that
/// must go on writing its base (QEMU refuses to inactivate it too), and another process taking an image's write
/// lock while the source has it inactive. Each ends with the source running, or paused with the reason in
/// error-desc, and a second migration that succeeds.
/// </summary>
public sealed class MigrationBlockFailureTests(GuestBuild guests) : IClassFixture<GuestBuild>, IDisposable
{
    private readonly string _dir = Qmpd.TempDir();
    private readonly List<IAsyncDisposable> _resources = [];

    public void Dispose()
    {
        foreach (var resource in Enumerable.Reverse(_resources))
            resource.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30));
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_node_that_cannot_be_inactivated_fails_the_migration_and_the_source_runs_on_and_migrates_again()
    {
        // base <- mid <- active on d0 (mid holds 4 MiB to commit), and sbase <- s on d1 for a job that tries to start.
        string Image(string name) => Path.Combine(_dir, name);
        await DiskGuestTools.Img("create", "-q", "-f", "qcow2", Image("base.qcow2"), "8M");
        await DiskGuestTools.Img("create", "-q", "-f", "qcow2", "-b", Image("base.qcow2"), "-F", "qcow2", Image("mid.qcow2"));
        await DiskGuestTools.Tool("qemu-io", "-f", "qcow2", "-c", "write -P 0x22 0 4M", Image("mid.qcow2"));
        await DiskGuestTools.Img("create", "-q", "-f", "qcow2", "-b", Image("mid.qcow2"), "-F", "qcow2", Image("active.qcow2"));
        await DiskGuestTools.Img("create", "-q", "-f", "qcow2", Image("sbase.qcow2"), "8M");
        await DiskGuestTools.Img("create", "-q", "-f", "qcow2", "-b", Image("sbase.qcow2"), "-F", "qcow2", Image("s.qcow2"));
        string[] config = ["-drive", $"file={Image("active.qcow2")},format=qcow2,if=none,id=d0", "-drive", $"file={Image("s.qcow2")},format=qcow2,if=none,id=d1",
            "-device", "pcie-root-port,id=rp1,chassis=1", "-device", "pcie-root-port,id=rp2,chassis=2", "-device", "virtio-rng-pci,id=rng0,bus=rp1"];
        var uri1 = $"unix:{Path.Combine(_dir, "one.sock")}";
        var source = await StartAsync("src", config);
        var first = await StartAsync("dst1", [.. config, "-incoming", uri1]);
        await source.Qmp.ExecuteAsync("block-commit", new() { ["device"] = "d0", ["job-id"] = "c0", ["top"] = Image("mid.qcow2"), ["speed"] = 65536 });
        // Slow enough that the first pass outlasts the refusals below even on a loaded machine (at 64 KiB/s it ended
        // under them once); raising it ends the wait at once.
        await source.Qmp.ExecuteAsync("migrate-set-parameters", new() { ["max-bandwidth"] = 1024 });
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = uri1 });
        await WaitMigrationStatusAsync(source.Qmp, "active");

        // While it migrates, the device set and the disks stay as the destination will see them.
        Assert.Equal("device_add not allowed while migrating",
            await RefusalAsync(source.Qmp, "device_add", new() { ["driver"] = "virtio-rng-pci", ["id"] = "rng1", ["bus"] = "rp2" }));
        Assert.Equal("device_del not allowed while migrating", await RefusalAsync(source.Qmp, "device_del", new() { ["id"] = "rng0" }));
        Assert.Equal("Cannot start a block job while migrating", await RefusalAsync(source.Qmp, "block-stream", new() { ["device"] = "d1", ["job-id"] = "s0" }));

        await source.Qmp.ExecuteAsync("migrate-set-parameters", new() { ["max-bandwidth"] = 134217728 });
        var info = await WaitMigrationEndAsync(source.Qmp);
        Assert.Equal("failed", info["status"]!.GetValue<string>());
        var reason = info["error-desc"]!.GetValue<string>();
        Assert.StartsWith("Failed to inactivate block nodes: Node '", reason, StringComparison.Ordinal);
        Assert.EndsWith("cannot be inactivated: block job 'c0' (base) writes to it", reason, StringComparison.Ordinal);
        Assert.Equal("running", await StatusAsync(source));
        Assert.All(await NodesAsync(source.Qmp), n => Assert.True(n["active"]!.GetValue<bool>(), n.ToJsonString()));
        Assert.Equal("c0", (await source.Qmp.ExecuteAsync("query-block-jobs"))!.AsArray().Single()!["device"]!.GetValue<string>());
        Assert.Equal(1, await first.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        await source.Qmp.ExecuteAsync("block-job-cancel", new() { ["device"] = "c0" });
        await WaitForAsync(async () => (await source.Qmp.ExecuteAsync("query-block-jobs"))!.AsArray().Count == 0);
        var uri2 = $"unix:{Path.Combine(_dir, "two.sock")}";
        var second = await StartAsync("dst2", [.. config, "-incoming", uri2]);
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = uri2 });
        Assert.Equal("completed", (await WaitMigrationEndAsync(source.Qmp))["status"]!.GetValue<string>());
        await WaitMigrationEndAsync(second.Qmp);
        Assert.Equal("running", await StatusAsync(second));
        Assert.All(await NodesAsync(second.Qmp), n => Assert.True(n["active"]!.GetValue<bool>(), n.ToJsonString()));
        Assert.All(await NodesAsync(source.Qmp), n => Assert.False(n["active"]!.GetValue<bool>(), n.ToJsonString()));
    }

    [Fact]
    public async Task A_node_that_cannot_be_reactivated_leaves_the_source_paused_with_the_reason_until_cont_can_take_it_back()
    {
        var image = Path.Combine(_dir, "disk.raw");
        await DiskGuestTools.Img("create", "-q", "-f", "raw", image, "4M");
        string[] config = ["-drive", $"file={image},format=raw,if=none,id=d0"];
        var source = await StartAsync("src", config);
        await WaitSerialAsync("src", "heartbeat 1");
        var uri1 = Path.Combine(_dir, "one.sock");

        // A destination that takes the whole stream and never answers: the source waits with its disks inactive.
        using (var destination = new StalledDestination(uri1))
        {
            await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = $"unix:{uri1}" });
            await WaitForAsync(async () => (await NodesAsync(source.Qmp)).All(n => !n["active"]!.GetValue<bool>()));
            Assert.True(destination.BytesReceived > 0);
            // The image is free: another process takes it before the source gets it back.
            var holder = await QemuIoHolder.OpenAsync(Qmpd.FindTool("qemu-io", "qemu-utils"), ["-f", "raw", image]);
            _resources.Add(holder);
        }

        var info = await WaitMigrationEndAsync(source.Qmp);
        Assert.Equal("failed", info["status"]!.GetValue<string>());
        var reason = info["error-desc"]!.GetValue<string>();
        // The channel's failure comes first (an unanswered end, or a reset if the source was still writing), then the disks'.
        Assert.Contains("; block nodes could not be reactivated (", reason, StringComparison.Ordinal);
        Assert.Contains("\"write\" lock", reason, StringComparison.Ordinal);
        Assert.EndsWith("), the guest stays paused", reason, StringComparison.Ordinal);
        Assert.Equal("paused", await StatusAsync(source));
        var heartbeats = await SerialAsync("src");
        var refused = await RefusalAsync(source.Qmp, "cont", []);
        Assert.StartsWith("Cannot continue: block nodes are inactive and could not be activated: ", refused, StringComparison.Ordinal);
        Assert.Contains("\"write\" lock", refused, StringComparison.Ordinal);
        Assert.Equal("paused", await StatusAsync(source));
        Assert.Equal(heartbeats, await SerialAsync("src"));

        // The other process lets go: cont activates the disks and the guest runs; it migrates again.
        await _resources[^1].DisposeAsync();
        _resources.RemoveAt(_resources.Count - 1);
        await source.Qmp.ExecuteAsync("cont");
        Assert.Equal("running", await StatusAsync(source));
        Assert.All(await NodesAsync(source.Qmp), n => Assert.True(n["active"]!.GetValue<bool>(), n.ToJsonString()));
        var uri2 = $"unix:{Path.Combine(_dir, "two.sock")}";
        var target = await StartAsync("dst", [.. config, "-incoming", uri2]);
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = uri2 });
        Assert.Equal("completed", (await WaitMigrationEndAsync(source.Qmp))["status"]!.GetValue<string>());
        await WaitMigrationEndAsync(target.Qmp);
        Assert.Equal("running", await StatusAsync(target));
        await WaitSerialAsync("dst", "heartbeat");
    }

    private sealed record Vm(CapturedProcess Process, QmpClient Qmp);

    // Accepts one migration connection and reads everything sent, never answering; disposing closes it.
    private sealed class StalledDestination : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private readonly Task _reading;
        private Socket? _connection;
        private long _bytes;

        public StalledDestination(string path)
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(1);
            _reading = Task.Run(async () =>
            {
                var connection = await _listener.AcceptAsync();
                Volatile.Write(ref _connection, connection);
                var buffer = new byte[1 << 16];
                try
                {
                    int n;
                    while ((n = await connection.ReceiveAsync(buffer)) > 0)
                        Interlocked.Add(ref _bytes, n);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // Closed by Dispose.
                }
            });
        }

        public long BytesReceived => Interlocked.Read(ref _bytes);

        public void Dispose()
        {
            Volatile.Read(ref _connection)?.Shutdown(SocketShutdown.Both);
            Volatile.Read(ref _connection)?.Dispose();
            _listener.Dispose();
            _reading.Wait(TimeSpan.FromSeconds(30));
        }
    }

    private async Task<Vm> StartAsync(string name, string[] extra)
    {
        var socket = Path.Combine(_dir, $"{name}.qmp");
        string[] args = ["-nodefaults", "-m", "64", "-kernel", guests.Elf("demo"), "-serial", $"file:{Path.Combine(_dir, name + ".serial")}",
            "-qmp", $"unix:{socket},server=on,wait=off", .. extra];
        var process = Qmpd.Start(args);
        _resources.Add(process);
        var client = await QmpClient.ConnectAsync(new NetworkStream(await Qmpd.ConnectUnixAsync(socket), ownsSocket: true));
        _resources.Insert(_resources.Count - 1, client);
        await client.NegotiateAsync();
        return new Vm(process, client);
    }

    private static async Task<List<JsonNode>> NodesAsync(QmpClient qmp) =>
        [.. (await qmp.ExecuteAsync("query-named-block-nodes", new() { ["flat"] = true }))!.AsArray().Select(n => n!)];

    private static async Task<string> RefusalAsync(QmpClient qmp, string command, JsonObject arguments) =>
        (await Assert.ThrowsAsync<QmpCommandException>(() => qmp.ExecuteAsync(command, arguments))).Description;

    private static async Task<string> StatusAsync(Vm vm) =>
        (await vm.Qmp.ExecuteAsync("query-status"))!["status"]!.GetValue<string>();

    private static async Task<JsonObject> WaitMigrationEndAsync(QmpClient qmp)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var info = (await qmp.ExecuteAsync("query-migrate"))!.AsObject();
            if (info["status"]?.GetValue<string>() is "completed" or "failed" or "cancelled")
                return info;
            Assert.True(DateTime.UtcNow < deadline, $"migration did not end: {info.ToJsonString()}");
            await Task.Delay(20);
        }
    }

    private static async Task WaitMigrationStatusAsync(QmpClient qmp, string status) =>
        await WaitForAsync(async () => (await qmp.ExecuteAsync("query-migrate"))!["status"]?.GetValue<string>() == status);

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }

    private Task<string> SerialAsync(string name) => SerialLog.ReadAsync(_dir, name);

    private Task WaitSerialAsync(string name, string text) => SerialLog.WaitForAsync(_dir, name, text);
}
