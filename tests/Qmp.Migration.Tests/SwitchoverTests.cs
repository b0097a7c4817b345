using System.Collections.Concurrent;
using Qmp.Block;
using Qmp.Block.Options;
using Qmp.Machine;
using Qmp.Migration.Channels;

namespace Qmp.Migration.Tests;

/// <summary>Shared storage at switchover, pause-before-switchover and auto-converge.</summary>
public sealed class SwitchoverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qmpd-mig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Source_inactivates_its_disks_and_the_destination_activates_them_before_it_runs()
    {
        var (source, target, image) = await PairWithDiskAsync(lateBlockActivate: false, targetPaused: false);
        using var _ = source.Machine;
        using var __ = target.Machine;
        await MigrateAsync(source, target);

        Assert.Equal(MigrationStatus.Completed, source.Migration.Query().Status);
        Assert.False(source.Machine.Block.AllActive);
        Assert.True(target.Machine.Block.AllActive);
        Assert.Equal(RunState.Running, target.Machine.RunState);
        // The destination holds the image now: cont on the source cannot take it back and refuses to run the guest.
        var e = await Assert.ThrowsAsync<MachineOperationException>(() => source.Machine.ContinueAsync());
        Assert.StartsWith("Cannot continue: block nodes are inactive and could not be activated", e.Message, StringComparison.Ordinal);
        Assert.Equal(RunState.PostMigrate, source.Machine.RunState);
        await target.Machine.Block.DisposeAsync();
        await source.Machine.Block.DisposeAsync();
        Assert.True(File.Exists(image));
    }

    [Fact]
    public async Task Late_block_activate_leaves_the_disks_to_cont()
    {
        var (source, target, _) = await PairWithDiskAsync(lateBlockActivate: true, targetPaused: true);
        using var a = source.Machine;
        using var b = target.Machine;
        await MigrateAsync(source, target);

        Assert.Equal(RunState.Paused, target.Machine.RunState);
        Assert.False(target.Machine.Block.AllActive);
        await target.Machine.ContinueAsync();
        Assert.True(target.Machine.Block.AllActive);
        Assert.Equal(RunState.Running, target.Machine.RunState);
        await target.Machine.Block.DisposeAsync();
        await source.Machine.Block.DisposeAsync();
    }

    [Fact]
    public async Task A_destination_failing_after_inactivation_gives_the_source_its_disks_and_guest_back()
    {
        var block = await DiskGraphAsync(Path.Combine(_dir, "disk.raw"), active: true);
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true, block: block);
        using var sourceMigration = new MigrationManager(source);
        // The destination has one device more: its load fails at the end marker, after the source inactivated.
        using var target = TestMachines.Create(TestMachines.Config() with { Devices = [new DeviceConfig("virtio-rng-pci", [])] });
        using var targetMigration = new MigrationManager(target);
        source.Start();
        target.EnterIncomingMigration();
        target.Start();
        var socket = Path.Combine(_dir, "m.sock");
        targetMigration.Incoming(SocketMigrationAddress.Unix(socket), fromCommandLine: true, exitOnError: false);
        sourceMigration.Migrate(SocketMigrationAddress.Unix(socket));
        await TestMachines.WaitForAsync(() => sourceMigration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed);

        var progress = sourceMigration.Query();
        Assert.Equal(MigrationStatus.Failed, progress.Status);
        Assert.Contains("is missing from the migration stream", progress.ErrorDesc, StringComparison.Ordinal);
        Assert.True(source.Block.AllActive);
        await TestMachines.WaitForAsync(() => source.RunState == RunState.Running);
        await block.DisposeAsync();
    }

    [Fact]
    public async Task Pause_before_switchover_waits_for_migrate_continue()
    {
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true);
        using var target = TestMachines.Create(TestMachines.Config(startPaused: true));
        using var sourceMigration = new MigrationManager(source);
        using var targetMigration = new MigrationManager(target);
        var statuses = new ConcurrentQueue<MigrationStatus>();
        sourceMigration.SetCapabilities([(MigrationCapability.Events, true), (MigrationCapability.PauseBeforeSwitchover, true)]);
        sourceMigration.StatusChanged += statuses.Enqueue;
        source.Start();
        target.EnterIncomingMigration();
        target.Start();
        var socket = Path.Combine(_dir, "p.sock");
        targetMigration.Incoming(SocketMigrationAddress.Unix(socket), fromCommandLine: true, exitOnError: false);
        sourceMigration.Migrate(SocketMigrationAddress.Unix(socket));
        await TestMachines.WaitForAsync(() => sourceMigration.Query().Status == MigrationStatus.PreSwitchover);

        Assert.Equal(RunState.FinishMigrate, source.RunState);
        Assert.True(source.Block.AllActive);
        Assert.Equal("Migration not in expected state: pre-switchover",
            Assert.Throws<MigrationException>(() => sourceMigration.Continue(MigrationStatus.Active)).Message);
        sourceMigration.Continue(MigrationStatus.PreSwitchover);
        await TestMachines.WaitForAsync(() => sourceMigration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed);

        Assert.Equal(MigrationStatus.Completed, sourceMigration.Query().Status);
        Assert.Equal([MigrationStatus.Setup, MigrationStatus.Active, MigrationStatus.PreSwitchover, MigrationStatus.Device, MigrationStatus.Completed], statuses);
        Assert.Equal(TestMachines.Ram(source), TestMachines.Ram(target));
    }

    [Fact]
    public async Task Auto_converge_throttles_a_guest_that_dirties_faster_than_the_link_and_cancel_lifts_it()
    {
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true);
        using var target = TestMachines.Create(TestMachines.Config());
        using var sourceMigration = new MigrationManager(source);
        using var targetMigration = new MigrationManager(target);
        sourceMigration.SetCapabilities([(MigrationCapability.AutoConverge, true)]);
        // 16 MiB rewritten in a millisecond against 64 MB/s × 1 ms: never converges.
        sourceMigration.SetParameters(p => p with { MaxBandwidth = 64 << 20, DowntimeLimit = 1 });
        source.Start();
        target.EnterIncomingMigration();
        target.Start();
        var socket = Path.Combine(_dir, "a.sock");
        targetMigration.Incoming(SocketMigrationAddress.Unix(socket), fromCommandLine: true, exitOnError: false);
        sourceMigration.Migrate(SocketMigrationAddress.Unix(socket));

        await TestMachines.WaitForAsync(() => sourceMigration.Query().CpuThrottlePercentage >= 20, TimeSpan.FromSeconds(60));
        Assert.Equal(source.ThrottlePercentage, sourceMigration.Query().CpuThrottlePercentage);
        Assert.Equal(MigrationStatus.Active, sourceMigration.Query().Status);
        sourceMigration.Cancel();
        await TestMachines.WaitForAsync(() => sourceMigration.Query().Status == MigrationStatus.Cancelled);
        Assert.Equal(0, source.ThrottlePercentage);
        Assert.Null(sourceMigration.Query().CpuThrottlePercentage);
    }

    private sealed record Side(Machine.Machine Machine, MigrationManager Migration);

    private static async Task<BlockGraph> DiskGraphAsync(string image, bool active)
    {
        if (!File.Exists(image))
            await File.WriteAllBytesAsync(image, new byte[1 << 20]);
        var graph = new BlockGraph();
        await graph.AddAsync(new RawBlockdevOptions
        {
            NodeName = "d0",
            Active = active,
            File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = image, Active = active }),
        });
        return graph;
    }

    private async Task<(Side Source, Side Target, string Image)> PairWithDiskAsync(bool lateBlockActivate, bool targetPaused)
    {
        var image = Path.Combine(_dir, "disk.raw");
        var source = TestMachines.Create(TestMachines.Config(), dirtier: true, block: await DiskGraphAsync(image, active: true));
        var target = TestMachines.Create(TestMachines.Config(startPaused: targetPaused), block: await DiskGraphAsync(image, active: false));
        var sourceMigration = new MigrationManager(source);
        var targetMigration = new MigrationManager(target);
        if (lateBlockActivate)
            targetMigration.SetCapabilities([(MigrationCapability.LateBlockActivate, true)]);
        source.Start();
        target.EnterIncomingMigration();
        target.Start();
        return (new Side(source, sourceMigration), new Side(target, targetMigration), image);
    }

    private async Task MigrateAsync(Side source, Side target)
    {
        var socket = Path.Combine(_dir, "s.sock");
        target.Migration.Incoming(SocketMigrationAddress.Unix(socket), fromCommandLine: true, exitOnError: false);
        source.Migration.Migrate(SocketMigrationAddress.Unix(socket));
        await TestMachines.WaitForAsync(() => source.Migration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed);
        await TestMachines.WaitForAsync(() => target.Migration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed);
        Assert.Null(source.Migration.Query().ErrorDesc);
    }
}
