namespace Qmp.Block;

/// <summary>
/// A drained section over a node (QEMU's bdrv_drained_begin/end): every user above it (parent nodes,
/// device backends, jobs) is told to stop issuing requests, and BeginAsync returns only
/// when nothing is in flight in the node, its ancestors or its descendants. The owner may then change
/// the graph or issue its own requests directly on nodes; disposing the section ends it. Sections nest.
/// </summary>
public sealed class DrainedSection : IDisposable
{
    private readonly List<BlockNode> _nodes;
    private readonly List<IBlockParent> _users;
    private int _ended;

    private DrainedSection(List<BlockNode> nodes, List<IBlockParent> users)
    {
        _nodes = nodes;
        _users = users;
    }

    /// <summary>Quiesces <paramref name="node"/> (with its ancestors and descendants) and waits until nothing runs there.</summary>
    public static Task<DrainedSection> BeginAsync(BlockNode node, CancellationToken cancellationToken = default) =>
        BeginAsync([node], cancellationToken);

    /// <summary>Quiesces every node in <paramref name="roots"/> at once (drain-all is all roots).</summary>
    public static async Task<DrainedSection> BeginAsync(IReadOnlyCollection<BlockNode> roots, CancellationToken cancellationToken = default)
    {
        var above = new List<BlockNode>();
        var users = new List<IBlockParent>();
        var seen = new HashSet<BlockNode>();
        foreach (var root in roots)
            CollectAncestors(root, above, users, seen);
        var below = new List<BlockNode>();
        foreach (var root in roots)
            CollectDescendants(root, below, seen);
        foreach (var node in above)
            node.Quiesce();
        foreach (var user in users)
            user.DrainedBegin();
        var section = new DrainedSection(above, users);
        try
        {
            await WaitQuietAsync([.. above, .. below], users, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            section.Dispose();
            throw;
        }
        return section;
    }

    /// <summary>Ends the section: users resume (and re-scan for work), in the reverse order they stopped.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
            return;
        for (var i = _users.Count - 1; i >= 0; i--)
            _users[i].DrainedEnd();
        foreach (var node in _nodes)
            node.Unquiesce();
    }

    // Users of a node and of every ancestor issue requests that reach the node.
    private static void CollectAncestors(BlockNode node, List<BlockNode> nodes, List<IBlockParent> users, HashSet<BlockNode> seen)
    {
        if (!seen.Add(node))
            return;
        nodes.Add(node);
        foreach (var user in node.Users)
        {
            if (!users.Contains(user))
                users.Add(user);
        }
        foreach (var link in node.ParentLinks)
            CollectAncestors(link.Parent, nodes, users, seen);
    }

    private static void CollectDescendants(BlockNode node, List<BlockNode> nodes, HashSet<BlockNode> seen)
    {
        foreach (var child in node.Children)
        {
            if (seen.Add(child.Node))
            {
                nodes.Add(child.Node);
                CollectDescendants(child.Node, nodes, seen);
            }
        }
    }

    // In-flight requests finish on their own (nothing holds them); a request a parent issues to a child
    // starts before the parent's own ends, so one pass that sees everything idle is final.
    private static async Task WaitQuietAsync(List<BlockNode> nodes, List<IBlockParent> users, CancellationToken cancellationToken)
    {
        while (true)
        {
            var busyUser = users.Any(u => u.DrainedPoll());
            var busyNode = nodes.FirstOrDefault(n => n.InFlight > 0);
            if (!busyUser && busyNode is null)
                return;
            if (busyNode is not null)
                await busyNode.WaitIdleAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            else
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }
}
