using System.Collections.Concurrent;
using Qmp.Machine;
using Qmp.Migration.Channels;

namespace Qmp.Migration.Tests;

public sealed class PrecopyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qmpd-mig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task File_save_of_a_stopped_machine_restores_bit_identical_and_the_guest_continues()
    {
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true);
        using var sourceMigration = new MigrationManager(source);
        source.Start();
        await TestMachines.WaitForAsync(() => source.Board!.Cpu.InstructionsRetired > 1_000_000);
        await source.StopAsync();
        var path = Path.Combine(_dir, "vm.state");
        sourceMigration.Migrate(new FileMigrationAddress(path, 4096));
        await WaitEndAsync(sourceMigration);
        Assert.Equal(MigrationStatus.Completed, sourceMigration.Query().Status);
        Assert.Equal(RunState.PostMigrate, source.RunState);

        using var target = TestMachines.Create(TestMachines.Config());
        using var targetMigration = new MigrationManager(target);
        target.EnterIncomingMigration();
        target.Start();
        targetMigration.Incoming(new FileMigrationAddress(path, 4096), fromCommandLine: true, exitOnError: false);
        await WaitEndAsync(targetMigration);

        Assert.Equal(MigrationStatus.Completed, targetMigration.Query().Status);
        // The source was paused when saved: the restored machine is paused too.
        Assert.Equal(RunState.Paused, target.RunState);
        Assert.Equal(TestMachines.Ram(source), TestMachines.Ram(target));
        Assert.Equal(0, TestMachines.BadPages(TestMachines.Ram(target)));

        var before = target.Board!.Cpu.InstructionsRetired;
        var firstByte = TestMachines.Ram(target)[TestMachines.RegionStart];
        await target.ContinueAsync();
        await TestMachines.WaitForAsync(() => TestMachines.Ram(target)[TestMachines.RegionStart] != firstByte);
        Assert.True(target.Board.Cpu.InstructionsRetired > before);
    }

    [Fact]
    public async Task Precopy_over_a_unix_socket_while_the_guest_writes_keeps_ram_consistent()
    {
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true);
        using var target = TestMachines.Create(TestMachines.Config(startPaused: true));
        using var sourceMigration = new MigrationManager(source);
        using var targetMigration = new MigrationManager(target);
        var events = new ConcurrentQueue<string>();
        sourceMigration.SetCapabilities([(MigrationCapability.Events, true)]);
        sourceMigration.StatusChanged += s => events.Enqueue(MigrationManager.StatusName(s));
        sourceMigration.PassStarted += p => events.Enqueue($"pass {p}");
        source.Start();
        target.EnterIncomingMigration();
        target.Start();
        var socket = Path.Combine(_dir, "mig.sock");
        targetMigration.Incoming(SocketMigrationAddress.Unix(socket), fromCommandLine: true, exitOnError: false);
        await TestMachines.WaitForAsync(() => source.Board!.Cpu.InstructionsRetired > 1_000_000);

        sourceMigration.Migrate(SocketMigrationAddress.Unix(socket));
        await WaitEndAsync(sourceMigration);
        await WaitEndAsync(targetMigration);

        var progress = sourceMigration.Query();
        Assert.Equal(MigrationStatus.Completed, progress.Status);
        Assert.Equal(MigrationStatus.Completed, targetMigration.Query().Status);
        Assert.Equal(RunState.PostMigrate, source.RunState);
        // Started with -S: the destination waits paused although the source ran.
        Assert.Equal(RunState.Paused, target.RunState);
        var sourceRam = TestMachines.Ram(source);
        Assert.Equal(sourceRam, TestMachines.Ram(target));
        Assert.Equal(0, TestMachines.BadPages(sourceRam));
        Assert.True(progress.Ram!.DirtySyncCount >= 2);
        Assert.True(progress.Ram.Normal >= 4096, $"normal pages {progress.Ram.Normal}");
        Assert.True(progress.Ram.Duplicate > 0);
        Assert.NotNull(progress.Downtime);
        Assert.Equal(["setup", "pass 1", "active"], events.Take(3));
        Assert.Equal("completed", events.Last());
        Assert.Equal("pass", events.ElementAt(events.Count - 2)[..4]);
    }

    [Fact]
    public async Task Cancel_leaves_the_source_running_and_a_second_migration_succeeds()
    {
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true);
        using var sourceMigration = new MigrationManager(source);
        source.Start();
        await TestMachines.WaitForAsync(() => source.Board!.Cpu.InstructionsRetired > 1_000_000);
        // 16 MiB of written pages at 1 MB/s: the migration is still active when it is cancelled.
        sourceMigration.SetParameters(p => p with { MaxBandwidth = 1 << 20 });

        using var first = TestMachines.Create(TestMachines.Config());
        using var firstMigration = new MigrationManager(first);
        first.EnterIncomingMigration();
        first.Start();
        var socket1 = Path.Combine(_dir, "one.sock");
        firstMigration.Incoming(SocketMigrationAddress.Unix(socket1), fromCommandLine: true, exitOnError: false);
        sourceMigration.Migrate(SocketMigrationAddress.Unix(socket1));
        await TestMachines.WaitForAsync(() => sourceMigration.Query().Status == MigrationStatus.Active);
        Assert.Throws<MigrationException>(() => sourceMigration.SetCapabilities([(MigrationCapability.Events, true)]));
        Assert.Equal("There's a migration process in progress",
            Assert.Throws<MigrationException>(() => sourceMigration.Migrate(SocketMigrationAddress.Unix(socket1))).Message);

        sourceMigration.Cancel();
        await WaitEndAsync(sourceMigration);
        Assert.Equal(MigrationStatus.Cancelled, sourceMigration.Query().Status);
        await TestMachines.WaitForAsync(() => source.RunState == RunState.Running);
        Assert.False(source.OutgoingMigrationActive);
        await WaitEndAsync(firstMigration);
        Assert.Equal(MigrationStatus.Failed, firstMigration.Query().Status);
        // A cancel after the end changes nothing.
        sourceMigration.Cancel();
        Assert.Equal(MigrationStatus.Cancelled, sourceMigration.Query().Status);

        sourceMigration.SetParameters(p => p with { MaxBandwidth = 0 });
        using var second = TestMachines.Create(TestMachines.Config(startPaused: true));
        using var secondMigration = new MigrationManager(second);
        second.EnterIncomingMigration();
        second.Start();
        var socket2 = Path.Combine(_dir, "two.sock");
        secondMigration.Incoming(SocketMigrationAddress.Unix(socket2), fromCommandLine: true, exitOnError: false);
        sourceMigration.Migrate(SocketMigrationAddress.Unix(socket2));
        await WaitEndAsync(sourceMigration);
        await WaitEndAsync(secondMigration);
        Assert.Equal(MigrationStatus.Completed, sourceMigration.Query().Status);
        Assert.Equal(TestMachines.Ram(source), TestMachines.Ram(second));
    }

    [Fact]
    public async Task A_refusing_destination_fails_the_source_with_its_reason_and_the_source_runs_on()
    {
        using var source = TestMachines.Create(TestMachines.Config(uuid: Guid.NewGuid()), dirtier: true);
        using var sourceMigration = new MigrationManager(source);
        sourceMigration.SetCapabilities([(MigrationCapability.ValidateUuid, true)]);
        source.Start();
        using var target = TestMachines.Create(TestMachines.Config());
        using var targetMigration = new MigrationManager(target);
        target.EnterIncomingMigration();
        target.Start();
        var socket = Path.Combine(_dir, "refuse.sock");
        targetMigration.Incoming(SocketMigrationAddress.Unix(socket), fromCommandLine: true, exitOnError: false);

        sourceMigration.Migrate(SocketMigrationAddress.Unix(socket));
        await WaitEndAsync(sourceMigration);

        var progress = sourceMigration.Query();
        Assert.Equal(MigrationStatus.Failed, progress.Status);
        Assert.Contains("UUID received is", progress.ErrorDesc, StringComparison.Ordinal);
        Assert.Equal(RunState.Running, source.RunState);
    }

    [Fact]
    public async Task Fd_channel_migrates_through_descriptors_of_a_file()
    {
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true);
        using var sourceMigration = new MigrationManager(source);
        source.Start();
        await TestMachines.WaitForAsync(() => source.Board!.Cpu.InstructionsRetired > 1_000_000);
        await source.StopAsync();
        var path = Path.Combine(_dir, "fd.state");
        var written = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        sourceMigration.Migrate(MigrationUri.Parse("fd:out", name => name == "out" ? written : null));
        await WaitEndAsync(sourceMigration);
        Assert.Equal((MigrationStatus.Completed, null), (sourceMigration.Query().Status, sourceMigration.Query().ErrorDesc));
        Assert.True(written.IsClosed || written.IsInvalid);

        using var target = TestMachines.Create(TestMachines.Config());
        using var targetMigration = new MigrationManager(target);
        target.EnterIncomingMigration();
        target.Start();
        targetMigration.Incoming(MigrationUri.Parse("fd:in", _ => File.OpenHandle(path)), fromCommandLine: true, exitOnError: false);
        await WaitEndAsync(targetMigration);
        Assert.Equal(MigrationStatus.Completed, targetMigration.Query().Status);
        Assert.Equal(TestMachines.Ram(source), TestMachines.Ram(target));
    }

    [Fact]
    public void Fd_channel_refuses_an_unknown_name_with_qemus_text()
    {
        var e = Assert.Throws<MigrationException>(() => MigrationUri.Parse("fd:nope", _ => null));
        Assert.Equal("File descriptor named 'nope' has not been found", e.Message);
        Assert.Equal(MigrationUri.InvalidProtocol, Assert.Throws<MigrationException>(() => MigrationUri.Parse("fd:x")).Message);
    }

    [Fact]
    public async Task A_closed_destination_fails_fast_with_qemus_connect_text()
    {
        using var source = TestMachines.Create(TestMachines.Config());
        using var sourceMigration = new MigrationManager(source);
        source.Start();
        var socket = Path.Combine(_dir, "nobody.sock");
        sourceMigration.Migrate(SocketMigrationAddress.Unix(socket));
        await WaitEndAsync(sourceMigration);
        var progress = sourceMigration.Query();
        Assert.Equal(MigrationStatus.Failed, progress.Status);
        Assert.StartsWith($"Failed to connect to '{socket}': ", progress.ErrorDesc, StringComparison.Ordinal);
        Assert.Equal(RunState.Running, source.RunState);
    }

    private static Task WaitEndAsync(MigrationManager migration) =>
        TestMachines.WaitForAsync(() => migration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed or MigrationStatus.Cancelled);
}
