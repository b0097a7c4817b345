using Qmp.Block.Jobs;
using MirrorSyncMode = Qmp.Schema.MirrorSyncMode;
using Qmp.Block.Transactions;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Block;

/// <summary>
/// block-backup.json: blockdev-backup, drive-backup and transaction. A backup command is a transaction of one
/// action, as in QEMU, so its job starts at one drained instant whichever way it is asked for.
/// </summary>
public sealed class BlockBackupCommands(Machine.Machine machine) : IBlockBackupCommands
{
    /// <inheritdoc/>
    public ValueTask BlockdevBackupAsync(BlockdevBackup arguments, CancellationToken cancellationToken) =>
        BlockErrors.RunAsync(() => BlockTransaction.RunAsync(machine.Block, [Backup(arguments)], grouped: false, cancellationToken));

    /// <inheritdoc/>
    public ValueTask DriveBackupAsync(DriveBackup arguments, CancellationToken cancellationToken) =>
        BlockErrors.RunAsync(() => BlockTransaction.RunAsync(machine.Block, [Backup(arguments)], grouped: false, cancellationToken));

    /// <inheritdoc/>
    public ValueTask TransactionAsync(TransactionArguments arguments, CancellationToken cancellationToken) => BlockErrors.RunAsync(() =>
    {
        var actions = arguments.Actions.Select(Action).ToList();
        var grouped = arguments.Properties?.CompletionMode == ActionCompletionMode.Grouped;
        return BlockTransaction.RunAsync(machine.Block, actions, grouped, cancellationToken);
    });

    private static Qmp.Block.Transactions.TransactionAction Action(Schema.TransactionAction action) => action.Type switch
    {
        TransactionActionKind.Abort => new AbortAction(),
        TransactionActionKind.BlockdevBackup => Backup(action.BlockdevBackup!.Data),
        TransactionActionKind.DriveBackup => Backup(action.DriveBackup!.Data),
        TransactionActionKind.BlockdevSnapshot => new SnapshotAction { Node = action.BlockdevSnapshot!.Data.Node, Overlay = action.BlockdevSnapshot.Data.Overlay },
        TransactionActionKind.BlockdevSnapshotSync => SnapshotSync(action.BlockdevSnapshotSync!.Data),
        _ => throw QmpErrorException.Generic($"Parameter 'type' does not accept value '{action.Type.ToWire()}'"),
    };

    private static SnapshotSyncAction SnapshotSync(BlockdevSnapshotSync arguments) => new()
    {
        Device = arguments.Device,
        NodeName = arguments.NodeName,
        SnapshotFile = arguments.SnapshotFile,
        SnapshotNodeName = arguments.SnapshotNodeName,
        Format = arguments.Format ?? "qcow2",
        Existing = arguments.Mode == NewImageMode.Existing,
    };

    private static BackupAction Backup(BlockdevBackup arguments) => new()
    {
        Options = Options(arguments.JobId, arguments.Device, arguments.Target, arguments.Sync, arguments.Speed, arguments.OnSourceError, arguments.OnTargetError, arguments.AutoFinalize, arguments.AutoDismiss) with { Compress = arguments.Compress ?? false },
    };

    private static BackupAction Backup(DriveBackup arguments)
    {
        var options = Options(arguments.JobId, arguments.Device, arguments.Target, arguments.Sync, arguments.Speed, arguments.OnSourceError, arguments.OnTargetError, arguments.AutoFinalize, arguments.AutoDismiss) with { Compress = arguments.Compress ?? false };
        return new BackupAction
        {
            Options = options,
            Drive = new DriveBackupOptions { Backup = options, Format = arguments.Format, Existing = arguments.Mode == NewImageMode.Existing },
        };
    }

    private static BackupJobOptions Options(string? jobId, string device, string target, MirrorSyncMode sync, long? speed, BlockdevOnError? onSourceError, BlockdevOnError? onTargetError, bool? autoFinalize, bool? autoDismiss) => new()
    {
        JobId = jobId,
        Device = device,
        Target = target,
        Sync = sync switch
        {
            MirrorSyncMode.Top => BackupSyncMode.Top,
            MirrorSyncMode.Full => BackupSyncMode.Full,
            MirrorSyncMode.None => BackupSyncMode.None,
            MirrorSyncMode.Incremental => BackupSyncMode.Incremental,
            _ => BackupSyncMode.Bitmap,
        },
        OnSourceError = JobMapping.Options(null, onSourceError, null, null).OnError,
        OnTargetError = JobMapping.Options(null, onTargetError, null, null).OnError,
        Job = JobMapping.Options(speed, null, autoFinalize, autoDismiss),
    };
}
