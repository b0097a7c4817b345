using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Qmp.Client;

namespace Qmp.Functional.Tests;

/// <summary>
/// Two real qmpd processes: the demo guest migrates over unix, tcp, exec and file and keeps printing its
/// heartbeat on the destination; failures (killed or refusing destination, cancel) leave a source that runs
/// and migrates again.
/// </summary>
public sealed partial class MigrationTests(GuestBuild guests) : IClassFixture<GuestBuild>, IDisposable
{
    private readonly string _dir = Qmpd.TempDir();
    private readonly List<IAsyncDisposable> _resources = [];

    public void Dispose()
    {
        foreach (var resource in Enumerable.Reverse(_resources))
            resource.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30));
        Directory.Delete(_dir, recursive: true);
    }

    [Theory]
    [InlineData("unix")]
    [InlineData("tcp")]
    public async Task Demo_guest_migrates_live_and_its_heartbeat_continues_on_the_destination(string transport)
    {
        var uri = transport == "unix" ? $"unix:{Path.Combine(_dir, "mig.sock")}" : $"tcp:127.0.0.1:{Qmpd.FreeTcpPort()}";
        var source = await StartAsync("src");
        var target = await StartAsync("dst", "-incoming", uri);
        Assert.Equal("inmigrate", await StatusAsync(target));
        await WaitSerialAsync("src", "heartbeat 1");
        var events = await EnableEventsAsync(source.Qmp);

        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = uri });
        var info = await WaitMigrationEndAsync(source.Qmp);

        Assert.Equal("completed", info["status"]!.GetValue<string>());
        Assert.Equal("postmigrate", await StatusAsync(source));
        // The destination answers the source before it starts the guest: wait for its own end, as the other tests do.
        await WaitMigrationEndAsync(target.Qmp);
        Assert.Equal("running", await StatusAsync(target));
        Assert.True(info["downtime"]!.GetValue<long>() >= 0);
        Assert.Equal(64L << 20, info["ram"]!["total"]!.GetValue<long>());
        var last = LastHeartbeat(await SerialAsync("src"));
        await WaitSerialAsync("dst", $"heartbeat {last + 1}");
        await WaitForAsync(() => { lock (events) return events.Contains("MIGRATION completed"); });
        Assert.Equal(["MIGRATION setup", "MIGRATION_PASS 1", "MIGRATION active", "STOP", "MIGRATION_PASS 2", "MIGRATION completed"], events.Take(6));
        var dstInfo = await target.Qmp.ExecuteAsync("query-migrate");
        Assert.Equal("completed", dstInfo!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Exec_channel_saves_through_a_command_and_loads_through_another()
    {
        var file = Path.Combine(_dir, "exec.state");
        var source = await StartAsync("src");
        await WaitSerialAsync("src", "heartbeat 1");
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = $"exec:cat > {file}" });
        Assert.Equal("completed", (await WaitMigrationEndAsync(source.Qmp))["status"]!.GetValue<string>());

        var target = await StartAsync("dst", "-incoming", "defer");
        Assert.Equal("inmigrate", await StatusAsync(target));
        Assert.Equal("{}", (await target.Qmp.ExecuteAsync("query-migrate"))!.ToJsonString());
        var waiting = await Assert.ThrowsAsync<QmpCommandException>(() => target.Qmp.ExecuteAsync("migrate", new() { ["uri"] = $"exec:cat > {file}.2" }));
        Assert.Equal("Guest is waiting for an incoming migration", waiting.Description);
        await target.Qmp.ExecuteAsync("migrate-incoming", new()
        {
            ["channels"] = new JsonArray(new JsonObject
            {
                ["channel-type"] = "main",
                ["addr"] = new JsonObject { ["transport"] = "exec", ["args"] = new JsonArray("cat", file) },
            }),
        });
        await WaitMigrationEndAsync(target.Qmp);
        Assert.Equal("running", await StatusAsync(target));
        await WaitSerialAsync("dst", $"heartbeat {LastHeartbeat(await SerialAsync("src")) + 1}");
    }

    [Fact]
    public async Task Deferred_destination_reports_the_real_port_and_refuses_a_second_migrate_incoming()
    {
        var target = await StartAsync("dst", "-incoming", "defer");
        await target.Qmp.ExecuteAsync("migrate-incoming", new() { ["uri"] = "tcp:127.0.0.1:0" });
        var address = (await target.Qmp.ExecuteAsync("query-migrate"))!["socket-address"]![0]!;
        Assert.Equal("inet", address["type"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", address["host"]!.GetValue<string>());
        var port = address["port"]!.GetValue<string>();
        Assert.NotEqual("0", port);
        var again = await Assert.ThrowsAsync<QmpCommandException>(() => target.Qmp.ExecuteAsync("migrate-incoming", new() { ["uri"] = "tcp:127.0.0.1:0" }));
        Assert.Equal("The incoming migration has already been started", again.Description);

        var source = await StartAsync("src");
        await source.Qmp.ExecuteAsync("migrate", new()
        {
            ["channels"] = new JsonArray(new JsonObject
            {
                ["channel-type"] = "main",
                ["addr"] = new JsonObject { ["transport"] = "socket", ["type"] = "inet", ["host"] = "127.0.0.1", ["port"] = port },
            }),
        });
        Assert.Equal("completed", (await WaitMigrationEndAsync(source.Qmp))["status"]!.GetValue<string>());
        await WaitMigrationEndAsync(target.Qmp);
        Assert.Equal("running", await StatusAsync(target));
    }

    [Fact]
    public async Task File_channel_with_offset_saves_a_stopped_guest_and_restores_it_paused()
    {
        var file = Path.Combine(_dir, "vm.state");
        var source = await StartAsync("src");
        await WaitSerialAsync("src", "heartbeat 1");
        await source.Qmp.ExecuteAsync("stop");
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = $"file:{file},offset=4096" });
        Assert.Equal("completed", (await WaitMigrationEndAsync(source.Qmp))["status"]!.GetValue<string>());
        Assert.Equal("postmigrate", await StatusAsync(source));

        var target = await StartAsync("dst", "-incoming", $"file:{file},offset=4096");
        await WaitMigrationEndAsync(target.Qmp);
        // The source was paused when saved, so the restored guest waits for cont.
        Assert.Equal("paused", await StatusAsync(target));
        await target.Qmp.ExecuteAsync("cont");
        await WaitSerialAsync("dst", $"heartbeat {LastHeartbeat(await SerialAsync("src")) + 1}");
    }

    [Fact]
    public async Task Killed_destination_fails_the_source_which_runs_on_and_migrates_again()
    {
        var uri1 = $"unix:{Path.Combine(_dir, "one.sock")}";
        var source = await StartAsync("src");
        var first = await StartAsync("dst1", "-incoming", uri1);
        // Zero pages cost 8 bytes each: at 64 KiB/s the 64 MiB guest takes seconds to send.
        await source.Qmp.ExecuteAsync("migrate-set-parameters", new() { ["max-bandwidth"] = 65536 });
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = uri1 });
        await WaitStatusAsync(source.Qmp, "active");
        await first.Process.KillAsync();

        var info = await WaitMigrationEndAsync(source.Qmp);
        Assert.Equal("failed", info["status"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(info["error-desc"]?.GetValue<string>()));
        Assert.Equal("running", await StatusAsync(source));

        var uri2 = $"unix:{Path.Combine(_dir, "two.sock")}";
        var second = await StartAsync("dst2", "-incoming", uri2);
        await source.Qmp.ExecuteAsync("migrate-set-parameters", new() { ["max-bandwidth"] = 134217728 });
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = uri2 });
        Assert.Equal("completed", (await WaitMigrationEndAsync(source.Qmp))["status"]!.GetValue<string>());
        Assert.Equal("running", await StatusAsync(second));
    }

    [Theory]
    [InlineData("ram", "Length mismatch: pc.ram: 0x4000000 in != 0x8000000: Invalid argument")]
    [InlineData("uuid", "UUID received is '11111111-2222-3333-4444-555555555555' and local is '00000000-0000-0000-0000-000000000000'")]
    public async Task Refusing_destination_reason_reaches_the_source_error_desc(string mismatch, string reason)
    {
        var uri = $"unix:{Path.Combine(_dir, "mig.sock")}";
        var source = await StartAsync("src", mismatch == "uuid" ? ["-uuid", "11111111-2222-3333-4444-555555555555"] : []);
        var target = await StartAsync("dst", mismatch == "ram" ? ["-m", "128", "-incoming", uri] : ["-incoming", uri]);
        if (mismatch == "uuid")
        {
            await source.Qmp.ExecuteAsync("migrate-set-capabilities", new()
            {
                ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "validate-uuid", ["state"] = true }),
            });
        }
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = uri });

        var info = await WaitMigrationEndAsync(source.Qmp);
        Assert.Equal("failed", info["status"]!.GetValue<string>());
        Assert.Equal($"the destination refused the migration: {reason}", info["error-desc"]!.GetValue<string>());
        Assert.Equal("running", await StatusAsync(source));
        // As QEMU's, a destination whose load failed exits with status 1.
        Assert.Equal(1, await target.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Migrate_cancel_goes_through_cancelling_to_cancelled_and_the_guest_runs_on()
    {
        var uri = $"unix:{Path.Combine(_dir, "mig.sock")}";
        // A hotplug slot on both sides, so device_add reaches the migration check (QEMU checks the bus first).
        var source = await StartAsync("src", "-device", "pcie-root-port,id=rp1,chassis=1");
        await StartAsync("dst", "-device", "pcie-root-port,id=rp1,chassis=1", "-incoming", uri);
        var events = await EnableEventsAsync(source.Qmp);
        await source.Qmp.ExecuteAsync("migrate-set-parameters", new() { ["max-bandwidth"] = 65536 });
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = uri });
        await WaitStatusAsync(source.Qmp, "active");
        var busy = await Assert.ThrowsAsync<QmpCommandException>(() => source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = uri }));
        Assert.Equal("There's a migration process in progress", busy.Description);
        var hotplug = await Assert.ThrowsAsync<QmpCommandException>(() => source.Qmp.ExecuteAsync("device_add", new() { ["driver"] = "virtio-rng-pci", ["id"] = "rng0", ["bus"] = "rp1" }));
        Assert.Equal("device_add not allowed while migrating", hotplug.Description);

        await source.Qmp.ExecuteAsync("migrate_cancel");
        var info = await WaitMigrationEndAsync(source.Qmp);
        Assert.Equal("cancelled", info["status"]!.GetValue<string>());
        Assert.Equal("running", await StatusAsync(source));
        await WaitForAsync(() => { lock (events) return events.Contains("MIGRATION cancelled"); });
        Assert.Contains("MIGRATION cancelling", events);
        Assert.Equal("MIGRATION cancelled", events.Last(e => e.StartsWith("MIGRATION ", StringComparison.Ordinal)));
        await source.Qmp.ExecuteAsync("migrate_cancel");
        Assert.Equal("cancelled", (await source.Qmp.ExecuteAsync("query-migrate"))!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Migration_commands_refuse_bad_requests_with_qemus_texts()
    {
        var source = await StartAsync("src");
        Assert.Equal("{}", (await source.Qmp.ExecuteAsync("query-migrate"))!.ToJsonString());
        var parameters = (await source.Qmp.ExecuteAsync("query-migrate-parameters"))!;
        Assert.Equal(134217728, parameters["max-bandwidth"]!.GetValue<long>());
        Assert.Equal(300, parameters["downtime-limit"]!.GetValue<long>());
        async Task<string> Refusal(string command, JsonObject arguments) =>
            (await Assert.ThrowsAsync<QmpCommandException>(() => source.Qmp.ExecuteAsync(command, arguments))).Description;
        Assert.Equal("Need either 'uri' or 'channels' argument", await Refusal("migrate", []));
        Assert.Equal("Parameter 'uri' expects a valid migration protocol", await Refusal("migrate", new() { ["uri"] = "bogus:x" }));
        Assert.Equal("error parsing address '127.0.0.1'", await Refusal("migrate", new() { ["uri"] = "tcp:127.0.0.1" }));
        Assert.Equal("invalid Unix socket address", await Refusal("migrate", new() { ["uri"] = "unix:" }));
        Assert.Equal("Migration not in expected state: none", await Refusal("migrate-continue", new() { ["state"] = "pre-switchover" }));
        Assert.Equal("Parameter 'max_cpu_throttle' expects an integer in the range of cpu_throttle_initial to 99",
            await Refusal("migrate-set-parameters", new() { ["max-cpu-throttle"] = 100 }));
        Assert.Equal("'-incoming' was not specified on the command line", await Refusal("migrate-incoming", new() { ["uri"] = "unix:/nonexistent/x" }));
        Assert.Equal("Parameter 'downtime_limit' expects an integer in the range of 0 to (2000 * 1000) ms",
            await Refusal("migrate-set-parameters", new() { ["downtime-limit"] = 2000001 }));
        var failed = Path.Combine(_dir, "nonexist.sock");
        await source.Qmp.ExecuteAsync("migrate", new() { ["uri"] = $"unix:{failed}" });
        var info = await WaitMigrationEndAsync(source.Qmp);
        Assert.Equal($"Failed to connect to '{failed}': No such file or directory", info["error-desc"]!.GetValue<string>());
    }

    private sealed record Vm(CapturedProcess Process, QmpClient Qmp);

    private async Task<Vm> StartAsync(string name, params string[] extra)
    {
        var socket = Path.Combine(_dir, $"{name}.qmp");
        string[] args = ["-nodefaults", "-m", "64", "-kernel", guests.Elf("demo"), "-serial", $"file:{Path.Combine(_dir, name + ".serial")}",
            "-qmp", $"unix:{socket},server=on,wait=off", .. extra];
        var process = Qmpd.Start(args);
        _resources.Add(process);
        var client = await QmpClient.ConnectAsync(new System.Net.Sockets.NetworkStream(await Qmpd.ConnectUnixAsync(socket), ownsSocket: true));
        _resources.Insert(_resources.Count - 1, client);
        await client.NegotiateAsync();
        return new Vm(process, client);
    }

    private static async Task<string> StatusAsync(Vm vm) =>
        (await vm.Qmp.ExecuteAsync("query-status"))!["status"]!.GetValue<string>();

    private static async Task<List<string>> EnableEventsAsync(QmpClient qmp)
    {
        await qmp.ExecuteAsync("migrate-set-capabilities", new()
        {
            ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = "events", ["state"] = true }),
        });
        var events = new List<string>();
        _ = Task.Run(async () =>
        {
            await foreach (var e in qmp.EventsAsync())
            {
                var text = e.Name switch
                {
                    "MIGRATION" => $"MIGRATION {e.Data!["status"]}",
                    "MIGRATION_PASS" => $"MIGRATION_PASS {e.Data!["pass"]}",
                    _ => e.Name,
                };
                lock (events)
                    events.Add(text);
            }
        });
        return events;
    }

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

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }

    private static async Task WaitStatusAsync(QmpClient qmp, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await qmp.ExecuteAsync("query-migrate"))!["status"]?.GetValue<string>() != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"migration never reached {status}");
            await Task.Delay(10);
        }
    }

    private Task<string> SerialAsync(string name) => SerialLog.ReadAsync(_dir, name);

    private Task WaitSerialAsync(string name, string text) => SerialLog.WaitForAsync(_dir, name, text);

    private static int LastHeartbeat(string serial) =>
        Heartbeat().Matches(serial).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();

    [GeneratedRegex(@"heartbeat (\d+)")]
    private static partial Regex Heartbeat();
}
