namespace Qmp.Block.Jobs;

/// <summary>
/// Active block-commit (job type "commit"), on the mirror's machinery as in QEMU: what the chain above the
/// base allocates is copied into the base while guest writes to the active layer are mirrored there too;
/// the job goes ready, job-complete pivots the device onto the base (the overlays drop out unless the
/// monitor owns them), and a cancel after ready keeps the overlay active with the data already in the base.
/// </summary>
public static class ActiveCommitJob
{
    /// <summary>
    /// Checks the arguments, reopens the base read-write (read-only again unless the device pivots onto it)
    /// and starts the job; created and running are emitted before this returns.
    /// </summary>
    public static Task<MirrorJob> StartAsync(BlockGraph graph, ActiveCommitJobOptions options, CancellationToken cancellationToken = default) =>
        graph.ChangeAsync(async () =>
        {
            var top = graph.Lookup(options.Device, options.Device);
            BlockNode? baseNode;
            if (options.BaseNode is not null)
            {
                baseNode = graph.Lookup(null, options.BaseNode);
                if (!BelowInChain(top, baseNode))
                    throw new BlockGraphException($"Node '{options.BaseNode}' is not a backing image of '{options.Device}'");
            }
            else
            {
                baseNode = top.Backing;
                while (baseNode?.Backing is not null)
                    baseNode = baseNode.Backing;
            }
            if (baseNode is null)
                throw new BlockGraphException("Top image file has no backing file");
            if (options.BackingFile is not null)
                throw new BlockGraphException("'backing-file' specified, but 'top' is the active layer");
            if (options.FilterNodeName is not null)
                throw new BlockGraphException("Parameter 'filter-node-name' is not supported by qmpd's block-commit (it inserts no filter node)");
            for (BlockNode? node = top; node is not null; node = node.Backing)
            {
                if (StreamJob.BusyError(node) is { } busy)
                    throw new BlockGraphException(busy);
                if (node == baseNode)
                    break;
            }
            if (options.Job.Speed < 0)
                throw new BlockGraphException("Parameter 'speed' expects a non-negative value");
            var wasReadOnly = baseNode.ReadOnly;
            if (wasReadOnly)
            {
                using (await DrainedSection.BeginAsync(baseNode, cancellationToken).ConfigureAwait(false))
                    await baseNode.ReopenAsync(readOnly: false, cancellationToken).ConfigureAwait(false);
            }
            try
            {
                return await MirrorJob.CreateAsync(graph, options.JobId, new MirrorSetup(top, baseNode)
                {
                    Base = baseNode,
                    Sync = MirrorSyncMode.Top,
                    Commit = true,
                    BaseWasReadOnly = wasReadOnly,
                    OnSourceError = options.Job.OnError,
                    OnTargetError = options.Job.OnError,
                    BufSize = 16 << 20,
                    Granularity = MirrorJob.DefaultGranularity(baseNode),
                }, options.Job, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                if (wasReadOnly)
                {
                    using (await DrainedSection.BeginAsync(baseNode, CancellationToken.None).ConfigureAwait(false))
                        await baseNode.ReopenAsync(readOnly: true, CancellationToken.None).ConfigureAwait(false);
                }
                throw;
            }
        }, cancellationToken);

    private static bool BelowInChain(BlockNode top, BlockNode node)
    {
        for (var at = top.Backing; at is not null; at = at.Backing)
        {
            if (at == node)
                return true;
        }
        return false;
    }
}
