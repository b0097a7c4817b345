namespace Qmp.Block;

// Activation of the graph's nodes: the migration hand-over (all nodes) and blockdev-set-active (one node or all).
// One activation change runs at a time.
public sealed partial class BlockGraph
{
    private const string NotPermitted = "Operation not permitted";
    private readonly SemaphoreSlim _activationLock = new(1, 1);
    private volatile bool _inactivationPending;

    /// <summary>Whether every node is active and no inactivation is pending (the guest may run only then).</summary>
    public bool AllActive => !_inactivationPending && Nodes.All(n => n.Activation == BlockActivation.Active);

    /// <summary>
    /// Inactivates every node, roots first: every node a request can enter by refuses writes from the start,
    /// while children stay writable until their parent is done, so it can write its metadata back. The graph
    /// is marked before anything is tried and stays marked until <see cref="ActivateAllAsync"/> succeeds, so a
    /// failure part way never leaves a graph that looks active; the caller re-activates on failure.
    /// </summary>
    public async Task InactivateAllAsync(CancellationToken cancellationToken = default)
    {
        await _activationLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await InactivateAllCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _activationLock.Release();
        }
    }

    /// <summary>Activates every node, children before parents; the first failure is thrown after trying them all.</summary>
    public async Task ActivateAllAsync(CancellationToken cancellationToken = default)
    {
        await _activationLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ActivateAllCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _activationLock.Release();
        }
    }

    /// <summary>
    /// blockdev-set-active: activates or inactivates the node <paramref name="nodeName"/>, or every node when it
    /// is null. Activating a node activates its children first; inactivating one also inactivates the children
    /// no active node still uses. A refused or failed inactivation gives back the activation it took, so
    /// nothing is left half-done; QEMU's texts.
    /// </summary>
    /// <exception cref="BlockGraphException">No such node, an active parent, a block job writing to the node, or the inactivation failed.</exception>
    /// <exception cref="BlockException">Activation failed (e.g. another process holds the image's write lock); the node stays inactive.</exception>
    public async Task SetActiveAsync(string? nodeName, bool active, CancellationToken cancellationToken = default)
    {
        await _activationLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (nodeName is null)
            {
                if (active)
                    await ActivateAllCoreAsync(cancellationToken).ConfigureAwait(false);
                else
                    await InactivateAllByUserAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            var node = FindNode(nodeName) ?? throw new BlockGraphException($"Failed to find node with node-name='{nodeName}'");
            if (active)
            {
                await node.ActivateAsync(cancellationToken).ConfigureAwait(false);
                if (Nodes.All(n => n.Activation == BlockActivation.Active))
                    _inactivationPending = false;
                return;
            }
            await InactivateNodeAsync(node, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _activationLock.Release();
        }
    }

    private async Task InactivateAllCoreAsync(CancellationToken cancellationToken)
    {
        _inactivationPending = true;
        // Refused before anything changes: a user that must go on writing (a commit job's base) keeps its node active.
        if (Nodes.FirstOrDefault(HasWritingJob) is { } busy)
        {
            var user = busy.Users.First(u => !u.AllowsInactivation);
            throw new BlockException(BlockError.Permission, $"Node '{busy.NodeName}' cannot be inactivated: {user.Description} writes to it");
        }
        using var drained = await DrainAllAsync(cancellationToken).ConfigureAwait(false);
        // Every node a request can enter by (roots, nodes with users) refuses writes before anything is tried.
        foreach (var node in Nodes.Where(n => (n.ParentLinks.Count == 0 || n.Users.Count > 0) && n.Activation == BlockActivation.Active))
            node.SetActivation(BlockActivation.Inactivating);
        foreach (var node in Nodes.Where(n => n.ParentLinks.Count == 0))
            await node.InactivateAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ActivateAllCoreAsync(CancellationToken cancellationToken)
    {
        Exception? first = null;
        foreach (var node in Nodes.Where(n => n.ParentLinks.Count == 0))
        {
            try
            {
                await node.ActivateAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BlockException or IOException)
            {
                first ??= e;
            }
        }
        if (first is not null)
            throw first;
        _inactivationPending = false;
    }

    // blockdev-set-active without a node: as the migration's, with QEMU's text when a job writes, and undone when
    // it fails (a user's command, unlike a migration, has no failure path of its own).
    private async Task InactivateAllByUserAsync(CancellationToken cancellationToken)
    {
        if (Nodes.Any(HasWritingJob))
            throw new BlockGraphException($"Failed to inactivate all nodes: {NotPermitted}");
        var wasActive = Nodes.Where(n => n.Activation == BlockActivation.Active).ToList();
        try
        {
            await InactivateAllCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BlockException or IOException or OperationCanceledException)
        {
            var undo = await ReactivateAsync(wasActive).ConfigureAwait(false);
            if (Nodes.All(n => n.Activation == BlockActivation.Active))
                _inactivationPending = false;
            throw new BlockGraphException($"Failed to inactivate all nodes: {e.Message}{undo}");
        }
    }

    // One node (QEMU's bdrv_inactivate): no active parent may need it, no job may write through it, and the nodes
    // it takes down with it are drained first.
    private async Task InactivateNodeAsync(BlockNode node, CancellationToken cancellationToken)
    {
        if (node.ParentLinks.Any(p => p.Parent.Activation == BlockActivation.Active))
            throw new BlockGraphException("Node has active parent node");
        if (node.Activation == BlockActivation.Inactive)
            return;
        var affected = InactivatedWith(node);
        if (affected.Any(HasWritingJob))
            throw new BlockGraphException($"Failed to inactivate node: {NotPermitted}");
        var wasActive = affected.Where(n => n.Activation == BlockActivation.Active).ToList();
        try
        {
            using (await DrainAllAsync(cancellationToken).ConfigureAwait(false))
                await node.InactivateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BlockException or IOException or OperationCanceledException)
        {
            var undo = await ReactivateAsync(wasActive).ConfigureAwait(false);
            throw new BlockGraphException($"Failed to inactivate node: {e.Message}{undo}");
        }
    }

    // The node and the children that no active node outside the set still uses (what InactivateAsync takes down).
    private static List<BlockNode> InactivatedWith(BlockNode node)
    {
        var set = new List<BlockNode> { node };
        for (var i = 0; i < set.Count; i++)
        {
            foreach (var child in set[i].Children)
            {
                var unneeded = child.Node.ParentLinks.All(p => set.Contains(p.Parent) || p.Parent.Activation != BlockActivation.Active);
                if (unneeded && !set.Contains(child.Node))
                    set.Add(child.Node);
            }
        }
        return set;
    }

    // QEMU lets a guest's or the monitor's backend go inactive, not a user that writes on its own (a commit job's base).
    private static bool HasWritingJob(BlockNode node) => node.Activation == BlockActivation.Active && node.Users.Any(u => !u.AllowsInactivation);

    // Gives the nodes back their activation after a refused inactivation; returns what could not be undone, for the error text.
    private static async Task<string> ReactivateAsync(IReadOnlyList<BlockNode> nodes)
    {
        string? failure = null;
        foreach (var node in nodes)
        {
            try
            {
                await node.ActivateAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BlockException or IOException)
            {
                failure ??= e.Message;
            }
        }
        return failure is null ? "" : $"; the nodes could not be activated again ({failure}) and stay inactive";
    }
}
