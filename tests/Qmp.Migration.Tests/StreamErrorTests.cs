using Qmp.Machine;
using Qmp.Migration.Channels;
using Qmp.Migration.Stream;

namespace Qmp.Migration.Tests;

public sealed class StreamErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qmpd-mig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Load_fails_naming_missing_section()
    {
        var error = await LoadCraftedAsync(sections => sections.Where(s => s.Name != "i8254").ToList());
        Assert.Contains("'i8254'", error, StringComparison.Ordinal);
        Assert.Contains("missing", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_fails_naming_unknown_section()
    {
        var error = await LoadCraftedAsync(sections => [.. sections, new DeviceSection("serial", 0, 1, [])]);
        Assert.StartsWith("Unknown savevm section or instance 'serial' 0", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_fails_naming_section_with_unknown_version()
    {
        var error = await LoadCraftedAsync(sections => [.. sections.Select(s => s.Name == "mc146818rtc" ? s with { Version = 99 } : s)]);
        Assert.Contains("'mc146818rtc'", error, StringComparison.Ordinal);
        Assert.Contains("99", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_fails_naming_truncated_section()
    {
        var error = await LoadCraftedAsync(sections => [.. sections.Select(s => s.Name == "cpu" ? s with { Payload = s.Payload[..10] } : s)]);
        Assert.Contains("'cpu'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_fails_on_another_stream_version()
    {
        var path = Path.Combine(_dir, "bad-version");
        await File.WriteAllBytesAsync(path, [.. MigrationFormat.Magic, 9, 0, 0, 0]);
        var error = await LoadAsync(TestMachines.Config(), path);
        Assert.Equal($"migration stream version 9 is not supported (this build reads {MigrationFormat.Version})", error);
    }

    [Fact]
    public async Task Load_fails_on_ram_size_mismatch_with_qemus_text()
    {
        var path = await SaveAsync(TestMachines.Config(ramMiB: 32));
        var error = await LoadAsync(TestMachines.Config(ramMiB: 64), path);
        Assert.Equal("Length mismatch: pc.ram: 0x2000000 in != 0x4000000: Invalid argument", error);
    }

    [Fact]
    public async Task Load_fails_on_machine_type_mismatch()
    {
        var path = await SaveAsync(TestMachines.Config());
        var error = await LoadAsync(TestMachines.Config() with { MachineType = "pc-i440fx-7.2" }, path);
        Assert.Equal("Machine type received is 'pc-i440fx-10.0' and local is 'pc-i440fx-7.2'", error);
    }

    [Fact]
    public async Task Load_fails_on_uuid_mismatch_when_the_source_validates_it()
    {
        var source = Guid.Parse("11111111-2222-3333-4444-555555555555");
        var path = await SaveAsync(TestMachines.Config(uuid: source), validateUuid: true);
        var error = await LoadAsync(TestMachines.Config(), path);
        Assert.Equal($"UUID received is '{source}' and local is '{Guid.Empty}'", error);
    }

    [Fact]
    public async Task Load_ignores_uuid_when_the_source_does_not_validate_it()
    {
        var path = await SaveAsync(TestMachines.Config(uuid: Guid.NewGuid()));
        Assert.Null(await LoadAsync(TestMachines.Config(), path));
    }

    [Fact]
    public async Task Load_fails_on_a_truncated_stream()
    {
        var path = await SaveAsync(TestMachines.Config());
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
        var error = await LoadAsync(TestMachines.Config(), path);
        Assert.StartsWith("migration stream ended early", error, StringComparison.Ordinal);
    }

    // A stream with the source's configuration and its sections changed by `tamper`, loaded into a like machine.
    private async Task<string> LoadCraftedAsync(Func<List<DeviceSection>, List<DeviceSection>> tamper)
    {
        using var source = TestMachines.Create(TestMachines.Config(startPaused: true));
        source.Start();
        var sections = await source.InvokeAsync(() => MachineState.Capture(source, RunState.Prelaunch));
        var path = Path.Combine(_dir, "crafted");
        using (var file = File.Create(path))
        {
            var writer = new MigrationWriter(file);
            writer.WriteHeader();
            writer.WriteConfig(MachineState.Describe(source, validateUuid: false));
            foreach (var section in tamper(sections))
                writer.WriteSection(section);
            writer.WriteEnd();
            writer.Flush();
        }
        return await LoadAsync(TestMachines.Config(), path) ?? throw new InvalidOperationException("the crafted stream loaded");
    }

    private async Task<string> SaveAsync(MachineConfig config, bool validateUuid = false)
    {
        using var machine = TestMachines.Create(config with { StartPaused = true });
        using var migration = new MigrationManager(machine);
        machine.Start();
        if (validateUuid)
            migration.SetCapabilities([(MigrationCapability.ValidateUuid, true)]);
        var path = Path.Combine(_dir, $"saved-{Guid.NewGuid():N}");
        migration.Migrate(new FileMigrationAddress(path, 0));
        await TestMachines.WaitForAsync(() => migration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed);
        Assert.Equal(MigrationStatus.Completed, migration.Query().Status);
        return path;
    }

    // Loads a file into a fresh destination that stays alive on failure; returns error-desc, or null when it loaded.
    private static async Task<string?> LoadAsync(MachineConfig config, string path)
    {
        using var machine = TestMachines.Create(config with { StartPaused = true });
        using var migration = new MigrationManager(machine);
        machine.EnterIncomingMigration();
        machine.Start();
        migration.DeferIncoming();
        migration.Incoming(new FileMigrationAddress(path, 0), fromCommandLine: false, exitOnError: false);
        await TestMachines.WaitForAsync(() => migration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed);
        var progress = migration.Query();
        Assert.False(machine.ExitRequested.IsCompleted);
        return progress.Status == MigrationStatus.Failed ? progress.ErrorDesc : null;
    }
}
