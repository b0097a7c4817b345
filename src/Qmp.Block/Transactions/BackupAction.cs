using Qmp.Block.Jobs;

namespace Qmp.Block.Transactions;

/// <summary>
/// The blockdev-backup and drive-backup actions: prepare opens drive-backup's target, makes the job
/// (created) and, with the source drained, puts in its copy-before-write; commit starts the job, which pauses
/// until clean ends the drained section (QEMU's paused/running blip); abort discards the never-started job.
/// </summary>
public sealed class BackupAction : TransactionAction
{
    /// <inheritdoc/>
    internal override string Name => Drive is null ? "blockdev-backup" : "drive-backup";

    /// <inheritdoc/>
    internal override bool SupportsGrouped => true;

    private BackupJob? _job;
    private DrainedSection? _drained;
    private BlockGraph? _graph;
    private BlockNode? _target;
    private bool _createdTarget;

    /// <summary>The backup's arguments (for drive-backup, Target is the file name).</summary>
    public required BackupJobOptions Options { get; init; }

    /// <summary>drive-backup's image options; null for blockdev-backup.</summary>
    public DriveBackupOptions? Drive { get; init; }

    /// <summary>The job, once prepared.</summary>
    public BackupJob? Job => _job;

    /// <inheritdoc/>
    internal override async Task PrepareAsync(TransactionContext context, CancellationToken cancellationToken)
    {
        var graph = context.Graph;
        _graph = graph;
        await graph.ChangeAsync(async () =>
        {
            BlockNode? target = null;
            Func<Task>? closeTarget = null;
            if (Drive is not null)
            {
                var source = graph.Lookup(Options.Device, Options.Device);
                // QEMU: sync top backs the new image by the source's backing file, sync none by the source itself.
                var sync = Options.Sync == BackupSyncMode.Top && source.Backing is null ? BackupSyncMode.Full : Options.Sync;
                var backing = sync switch
                {
                    BackupSyncMode.Top => source.Backing,
                    BackupSyncMode.None => source,
                    _ => null,
                };
                (target, _createdTarget) = await graph.OpenBackupTargetAsync(source, Options.Target, Drive.Format, Drive.Existing, backing, cancellationToken).ConfigureAwait(false);
                _target = target;
                var node = target;
                closeTarget = () => graph.CloseBackupTargetAsync(node);
            }
            try
            {
                _job = BackupJob.Create(graph, Options, target, closeTarget, context.JobIds);
            }
            catch when (target is not null)
            {
                await graph.CloseIfUnusedAsync(target).ConfigureAwait(false);
                if (_createdTarget)
                    System.IO.File.Delete(Options.Target);
                _target = null;
                throw;
            }
            return true;
        }, cancellationToken).ConfigureAwait(false);
        var job = _job!;
        context.JobIds.Add(job.Id);
        job.MarkCreated();
        try
        {
            _drained = await DrainedSection.BeginAsync(job.Source, cancellationToken).ConfigureAwait(false);
            await job.InstallAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Clean();
            await AbortAsync().ConfigureAwait(false);
            throw;
        }
        context.Jobs?.Add(job);
    }

    /// <inheritdoc/>
    internal override void Commit() => _graph!.Jobs.Start(_job!);

    /// <inheritdoc/>
    internal override async Task AbortAsync()
    {
        if (_job is null)
            return;
        await _job.DiscardUnstartedAsync().ConfigureAwait(false);
        // A target this transaction created goes again (the job closed it already).
        if (_createdTarget && _target is not null)
            System.IO.File.Delete(Options.Target);
    }

    /// <inheritdoc/>
    internal override void Clean() => _drained?.Dispose();
}
