using Qmp.Migration.Channels;
using Qmp.Migration.Stream;

namespace Qmp.Migration.Tests;

public sealed class InspectorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qmpd-mig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Inspector_lists_config_ram_sections_and_end_of_a_saved_machine()
    {
        using var machine = TestMachines.Create(TestMachines.Config(ramMiB: 16, startPaused: true));
        using var migration = new MigrationManager(machine);
        machine.Start();
        var path = Path.Combine(_dir, "saved");
        migration.Migrate(new FileMigrationAddress(path, 0));
        await TestMachines.WaitForAsync(() => migration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed);

        using var file = File.OpenRead(path);
        var lines = MigrationStreamInspector.Describe(file).ToList();

        Assert.Equal($"header: qmpd migration stream version {MigrationFormat.Version}", lines[0]);
        Assert.Contains(lines, l => l.Contains("config: machine pc-i440fx-10.0, uuid (not sent)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ram block pc.ram: 16777216 bytes (4096 pages)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("ram pc.ram 0x0..0x1000000: 1 records, 0 pages with data, 4096 zero pages", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("section cpu instance 0 version 1", StringComparison.Ordinal));
        Assert.EndsWith($"end ({new FileInfo(path).Length} bytes)", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Inspector_refuses_a_file_that_is_no_migration_stream()
    {
        using var stream = new MemoryStream("not a stream at all"u8.ToArray());
        var e = Assert.Throws<MigrationLoadException>(() => MigrationStreamInspector.Describe(stream).ToList());
        Assert.Equal("not a qmpd migration stream (bad magic)", e.Message);
    }
}
