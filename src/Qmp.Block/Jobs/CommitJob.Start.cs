using Qmp.Block.Backends;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Jobs;

public sealed partial class CommitJob
{
    /// <summary>
    /// Checks block-commit's arguments in QEMU 7.2's order and with its texts, then starts an intermediate commit
    /// (created and running are emitted before this returns). When the top is the active layer (or has a writer)
    /// QEMU makes an active commit instead: <see cref="Plan"/> tells, and the caller starts <see cref="ActiveCommitJob"/>; this refuses it.
    /// </summary>
    public static async Task<CommitJob> StartAsync(BlockGraph graph, CommitJobOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        var job = await graph.ChangeAsync(() => CreateAsync(graph, options, cancellationToken), cancellationToken).ConfigureAwait(false);
        // QEMU enters a new job at once and it runs until it first sleeps, so the reply follows its first copied
        // chunk (a throttled job's progress is already visible); a job stuck in I/O does not hold the reply long.
        try
        {
            await Task.WhenAny(job._firstCopy.Task, job.Completion).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        return job;
    }

    /// <summary>
    /// Resolves block-commit's device, top and base as QEMU does and says whether it is an active commit
    /// (the top is the device's active layer or has a writer). Throws QEMU's error for bad arguments.
    /// </summary>
    public static CommitPlan Plan(BlockGraph graph, CommitJobOptions options)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        var device = RootNode(graph, options.Device);
        var top = device;
        if (options.TopNode is not null && options.Top is not null)
            throw new BlockGraphException("'top-node' and 'top' are mutually exclusive");
        if (options.TopNode is not null)
        {
            top = graph.Lookup(null, options.TopNode);
            if (!BackingChain.Contains(device, top))
                throw new BlockGraphException($"'{options.TopNode}' is not in this backing file chain");
        }
        else if (options.Top is { } topName && device.Filename != topName)
        {
            top = FindBackingImage(device, topName) ?? throw new BlockGraphException($"Top image file {topName} not found");
        }

        BlockNode baseNode;
        if (options.BaseNode is not null && options.Base is not null)
            throw new BlockGraphException("'base-node' and 'base' are mutually exclusive");
        if (options.BaseNode is not null)
        {
            baseNode = graph.Lookup(null, options.BaseNode);
            if (!BackingChain.Contains(top, baseNode))
                throw new BlockGraphException($"'{options.BaseNode}' is not in this backing file chain");
        }
        else if (options.Base is { } baseName)
        {
            baseNode = FindBackingImage(top, baseName) ?? throw new BlockGraphException($"Can't find '{baseName}' in the backing chain");
        }
        else
        {
            baseNode = top;
            while (baseNode.Backing is { } below)
                baseNode = below;
        }

        for (BlockNode? node = top; node is not null && node != baseNode.Backing; node = node.Backing)
        {
            if (StreamJob.BusyError(node) is { } busy)
                throw new BlockGraphException(busy);
        }
        if (top == baseNode)
            throw new BlockGraphException("cannot commit an image into itself");

        var writer = top.Users.OfType<BlockBackend>().Any(b => !b.ReadOnly && b.Device is not null);
        var active = top == device || writer;
        if (active && options.BackingFile is not null)
        {
            throw new BlockGraphException(top == device
                ? "'backing-file' specified, but 'top' is the active layer"
                : "'backing-file' specified, but 'top' has a writer on it");
        }
        var overlay = device;
        while (overlay.Backing is { } below && below != top)
            overlay = below;
        return new CommitPlan(device, top, baseNode, active ? null : overlay, BackingChain.DeviceName(device));
    }

    private static async Task<CommitJob> CreateAsync(BlockGraph graph, CommitJobOptions options, CancellationToken cancellationToken)
    {
        var plan = Plan(graph, options);
        if (plan.IsActive)
            throw new BlockGraphException("Active commit (the top is the device's active layer) is ActiveCommitJob's, not an intermediate commit");
        var overlay = plan.Overlay!;
        if (StreamJob.BusyError(overlay) is { } busy)
            throw new BlockGraphException(busy);
        if (!overlay.SupportsBacking)
            throw new BlockGraphException($"Node '{overlay.NodeName}' cannot take a new backing file");

        var id = options.JobId ?? plan.DeviceName;
        graph.Jobs.CheckNewId(id);
        var intermediates = new List<BlockNode>();
        for (BlockNode? node = plan.Top; node is not null && node != plan.Base; node = node.Backing)
            intermediates.Add(node);
        var baseWasReadOnly = plan.Base.ReadOnly;
        var job = new CommitJob(graph, id, plan, intermediates, options.BackingFile, baseWasReadOnly, options.Job);
        // QEMU's block_job_create makes the job before it checks the speed or reopens the base: those failures show created and null.
        if (options.Job.Speed < 0)
        {
            job.CreateAndDrop();
            throw new BlockGraphException("Parameter 'speed' expects a non-negative value");
        }
        if (baseWasReadOnly)
        {
            try
            {
                using (await DrainedSection.BeginAsync(plan.Base, cancellationToken).ConfigureAwait(false))
                    await plan.Base.ReopenAsync(readOnly: false, cancellationToken).ConfigureAwait(false);
            }
            catch (BlockException)
            {
                job.CreateAndDrop();
                throw;
            }
        }
        job.Use(plan.Device);
        foreach (var node in intermediates)
            job.Use(node);
        plan.Base.AddUser(job._baseUser);
        graph.Jobs.Start(job);
        return job;
    }

    // QEMU's qmp_get_root_bs: a drive's root or a node that has no parent (a job's main node has one).
    private static BlockNode RootNode(BlockGraph graph, string device)
    {
        var node = graph.FindBackend(device)?.Root ?? graph.FindNode(device)
            ?? throw new BlockGraphException($"Device '{device}' not found");
        if (node.ParentLinks.Count > 0 || node.Users.OfType<Job>().Any())
            throw new BlockGraphException("Need a root block node");
        return node;
    }

    // QEMU's bdrv_find_backing_image: a name relative to an image is relative to its directory; both sides are compared as absolute paths of existing files.
    private static BlockNode? FindBackingImage(BlockNode start, string name)
    {
        for (var node = start; node.Backing is { } below; node = below)
        {
            if (node is not Qcow2Node { FullBackingFileName: { } stored })
                continue;
            var wanted = Path.GetFullPath(name, Path.GetDirectoryName(node.Filename) ?? "/");
            var full = Path.GetFullPath(stored);
            if (wanted == full && System.IO.File.Exists(full))
                return below;
        }
        return null;
    }
}
