using System.Net.Sockets;
using Qmp.Machine;
using Qmp.Migration.Channels;
using Qmp.TestSupport;

namespace Qmp.Migration.Tests;

/// <summary>
/// fd: channels over the two ends of a connected socket pair, as a management layer hands them over with
/// getfd, in non-blocking mode (as many senders leave them), which the channel must cope with.
/// </summary>
public sealed class FdSocketChannelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qmpd-mig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Live_migration_over_a_non_blocking_socket_pair_completes_with_the_same_ram()
    {
        var (a, b) = await SocketPair.CreateAsync(Path.Combine(_dir, "pair.sock"));
        using var source = TestMachines.Create(TestMachines.Config(), dirtier: true);
        using var sourceMigration = new MigrationManager(source);
        using var target = TestMachines.Create(TestMachines.Config());
        using var targetMigration = new MigrationManager(target);
        source.Start();
        target.EnterIncomingMigration();
        target.Start();
        await TestMachines.WaitForAsync(() => source.Board!.Cpu.InstructionsRetired > 1_000_000);
        using (a)
        using (b)
        {
            MakeNonBlocking(a);
            MakeNonBlocking(b);
            // Each channel owns a duplicate, as a descriptor received with SCM_RIGHTS would be.
            targetMigration.Incoming(MigrationUri.Parse("fd:in", _ => SocketPair.Duplicate(b)), fromCommandLine: true, exitOnError: false);
            sourceMigration.Migrate(MigrationUri.Parse("fd:out", _ => SocketPair.Duplicate(a)));
        }
        await TestMachines.WaitForAsync(() => sourceMigration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed, TimeSpan.FromSeconds(60));
        Assert.Equal((MigrationStatus.Completed, null), (sourceMigration.Query().Status, sourceMigration.Query().ErrorDesc));
        await TestMachines.WaitForAsync(() => targetMigration.Query().Status is MigrationStatus.Completed or MigrationStatus.Failed, TimeSpan.FromSeconds(60));
        Assert.Equal(MigrationStatus.Completed, targetMigration.Query().Status);
        await TestMachines.WaitForAsync(() => target.RunState == RunState.Running);
        await target.StopAsync();
        Assert.Equal(0, TestMachines.BadPages(TestMachines.Ram(target)));
    }

    // What many senders hand over (QEMU's own channels, event loops): the descriptor in non-blocking mode.
    private static void MakeNonBlocking(Socket socket)
    {
        var fd = (int)socket.SafeHandle.DangerousGetHandle();
        var flags = Fcntl(fd, 3 /* F_GETFL */, 0);
        Assert.True(flags >= 0 && Fcntl(fd, 4 /* F_SETFL */, flags | 0x800 /* O_NONBLOCK */) == 0);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int command, int argument);
}
