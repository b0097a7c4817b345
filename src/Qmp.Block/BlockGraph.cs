using Qmp.Block.Backends;
using Qmp.Block.Options;

namespace Qmp.Block;

/// <summary>
/// A machine's block graph (QEMU's global node list and monitor-owned BlockBackends): opens nodes from
/// <see cref="BlockdevOptions"/>, names them, keeps the legacy drives (<c>-drive id=</c>), deletes nodes
/// no one uses, and runs graph-wide drain and (in)activation (BlockGraph.Activation.cs). Graph changes are
/// serialised; requests never take the graph's lock.
/// </summary>
public sealed partial class BlockGraph : IAsyncDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly List<BlockNode> _nodes = [];
    private readonly HashSet<BlockNode> _monitorOwned = [];
    private readonly List<BlockBackend> _backends = [];
    private long _autoNameCounter;

    /// <summary>A backend of this graph applied its error policy to a failed request (the source of BLOCK_IO_ERROR).</summary>
    public event Action<Backends.BlockIoErrorEventArgs>? IoError;

    /// <summary>Every node, in the order opened.</summary>
    public IReadOnlyList<BlockNode> Nodes
    {
        get
        {
            lock (_nodes)
                return [.. _nodes];
        }
    }

    /// <summary>The backends: named drives and the anonymous ones devices created.</summary>
    public IReadOnlyList<BlockBackend> Backends
    {
        get
        {
            lock (_nodes)
                return [.. _backends];
        }
    }

    /// <summary>The node called <paramref name="nodeName"/>, or null.</summary>
    public BlockNode? FindNode(string nodeName)
    {
        lock (_nodes)
            return _nodes.Find(n => n.NodeName == nodeName);
    }

    /// <summary>The named backend (legacy drive) called <paramref name="name"/>, or null.</summary>
    public BlockBackend? FindBackend(string name)
    {
        if (name.Length == 0)
            return null;
        lock (_nodes)
            return _backends.Find(b => b.Name == name);
    }

    /// <summary>
    /// blockdev-add: opens the node tree <paramref name="options"/> describes; the root needs a node name
    /// and becomes monitor-owned. On failure every node opened so far is closed again.
    /// </summary>
    public async Task<BlockNode> AddAsync(BlockdevOptions options, CancellationToken cancellationToken = default)
    {
        if (options.NodeName is null)
            throw new BlockGraphException("'node-name' must be specified for the root node");
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var node = await OpenTreeAsync(options, null, cancellationToken).ConfigureAwait(false);
            lock (_nodes)
                _monitorOwned.Add(node);
            return node;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// -drive: opens the node tree and puts it in a named backend (QEMU's legacy drive: the backend is the
    /// monitor's, the nodes get automatic names unless given one).
    /// </summary>
    public async Task<BlockBackend> AddDriveAsync(string id, BlockdevOptions options, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (FindBackend(id) is not null)
                throw new BlockGraphException($"Duplicate ID '{id}' for drive");
            if (FindNode(id) is not null)
                throw new BlockGraphException($"Device name '{id}' conflicts with an existing node name");
            var node = await OpenTreeAsync(options, null, cancellationToken).ConfigureAwait(false);
            var backend = new BlockBackend(id) { ReadOnly = options.ReadOnly };
            backend.IoError += RaiseIoError;
            backend.Insert(node);
            lock (_nodes)
                _backends.Add(backend);
            return backend;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// The backend a device's <c>drive=</c> names: a legacy drive, or a new anonymous backend over the node
    /// of that name (as QEMU's qdev drive property resolves it). Null when neither exists.
    /// </summary>
    public BlockBackend? ResolveDrive(string name)
    {
        if (FindBackend(name) is { } named)
            return named;
        if (FindNode(name) is not { } node)
            return null;
        var backend = new BlockBackend("") { ReadOnly = node.ReadOnly };
        backend.IoError += RaiseIoError;
        backend.Insert(node);
        lock (_nodes)
            _backends.Add(backend);
        return backend;
    }

    /// <summary>A device let go of <paramref name="backend"/>: an anonymous backend goes away, a named one stays.</summary>
    public void ReleaseDrive(BlockBackend backend)
    {
        backend.DetachDevice();
        if (backend.Name.Length > 0)
            return;
        backend.Eject();
        lock (_nodes)
            _backends.Remove(backend);
    }

    /// <summary>blockdev-del: closes a monitor-owned node no one uses, with its children no one else uses.</summary>
    public async Task DeleteAsync(string nodeName, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var node = FindNode(nodeName) ?? throw new BlockGraphException($"Failed to find node with node-name='{nodeName}'");
            bool owned;
            lock (_nodes)
                owned = _monitorOwned.Contains(node);
            // A job's op blocker comes first, as in QEMU's blockdev-del.
            if (Qmp.Block.Jobs.StreamJob.BusyError(node) is { } busy)
                throw new BlockGraphException(busy);
            if (node.Users.Count > 0)
                throw new BlockGraphException($"Node {nodeName} is in use");
            if (!owned)
                throw new BlockGraphException($"Node {nodeName} is not owned by the monitor");
            if (node.ParentLinks.Count > 0)
                throw new BlockGraphException($"Block device {nodeName} is in use");
            lock (_nodes)
                _monitorOwned.Remove(node);
            await CloseUnusedAsync(node).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Runs <paramref name="change"/> under the graph lock (snapshots, re-pointing chains).</summary>
    public async Task<T> ChangeAsync<T>(Func<Task<T>> change, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await change().ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Drains every node of the graph (QEMU's bdrv_drain_all_begin).</summary>
    public Task<DrainedSection> DrainAllAsync(CancellationToken cancellationToken = default) =>
        DrainedSection.BeginAsync(Nodes.Where(n => n.ParentLinks.Count == 0).ToList(), cancellationToken);

    /// <summary>Flushes and closes every node (machine shutdown).</summary>
    public async ValueTask DisposeAsync()
    {
        // Jobs end first (their abort may need the graph lock), so no job request races the closing nodes.
        await Jobs.CancelAllAsync().ConfigureAwait(false);
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var backend in Backends)
                backend.Eject();
            lock (_nodes)
            {
                _backends.Clear();
                _monitorOwned.Clear();
            }
            foreach (var node in Nodes.Where(n => n.ParentLinks.Count == 0))
                await CloseUnusedAsync(node).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    private void RaiseIoError(Backends.BlockIoErrorEventArgs e) => IoError?.Invoke(e);

    internal string NextAutoName() => $"#block{Interlocked.Increment(ref _autoNameCounter) - 1:D3}";

    private void Register(BlockNode node, string? name)
    {
        node.NodeName = name ?? NextAutoName();
        node.AutoNamed = name is null;
        lock (_nodes)
            _nodes.Add(node);
    }

    // Closes a node no one references any more, then its children that became unreferenced and are not the monitor's.
    private async ValueTask CloseUnusedAsync(BlockNode node)
    {
        var children = node.Children;
        try
        {
            if (node.Writable)
                await node.FlushAsync().ConfigureAwait(false);
        }
        catch (BlockException)
        {
            // Closing goes on: a failed flush on close is what QEMU logs and ignores too.
        }
        foreach (var child in children)
            node.RemoveChild(child.Node);
        lock (_nodes)
            _nodes.Remove(node);
        await node.CloseAsync().ConfigureAwait(false);
        foreach (var child in children)
        {
            bool owned;
            lock (_nodes)
                owned = _monitorOwned.Contains(child.Node);
            if (!owned && !child.Node.InUse)
                await CloseUnusedAsync(child.Node).ConfigureAwait(false);
        }
    }
}
