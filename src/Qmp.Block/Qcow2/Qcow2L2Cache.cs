namespace Qmp.Block.Qcow2;

/// <summary>
/// A least-recently-used cache of decoded L2 tables, keyed by host offset and bounded in bytes.
/// Tables change under the node's metadata write lock, or under the allocation lock while readers run
/// (<see cref="Update"/>); either way they are written through.
/// </summary>
/// <remarks>
/// A change made while readers run goes to disk first and into the cached table after, so nothing can act on an
/// entry that a flush would not make durable; it bumps <see cref="Version"/>, and a loader whose disk read may
/// have raced the change (the version moved) reads again instead of caching what it read.
/// </remarks>
internal sealed class Qcow2L2Cache
{
    private readonly Dictionary<long, LinkedListNode<(long Offset, ulong[] Table)>> _map = [];
    private readonly LinkedList<(long Offset, ulong[] Table)> _lru = new();
    private readonly int _capacity;
    private long _version;

    /// <summary>Creates a cache of at most <paramref name="maxBytes"/> of tables (at least 16 tables).</summary>
    public Qcow2L2Cache(long maxBytes, int clusterSize) =>
        _capacity = (int)Math.Clamp(maxBytes / clusterSize, 16, 1 << 20);

    public int Count
    {
        get
        {
            lock (_map)
                return _map.Count;
        }
    }

    /// <summary>Moves on each time a change made alongside readers is on disk.</summary>
    public long Version => Interlocked.Read(ref _version);

    public bool TryGet(long offset, out ulong[] table)
    {
        lock (_map)
        {
            if (_map.TryGetValue(offset, out var node))
            {
                if (node != _lru.First)
                {
                    _lru.Remove(node);
                    _lru.AddFirst(node);
                }
                table = node.Value.Table;
                return true;
            }
        }
        table = [];
        return false;
    }

    /// <summary>Adds a table; if another loader added one first, returns that one.</summary>
    public ulong[] Add(long offset, ulong[] table)
    {
        lock (_map)
            return AddLocked(offset, table);
    }

    /// <summary>
    /// Adds a table read from disk while the version was <paramref name="version"/>; returns the cached table, or
    /// null if a change went to disk meanwhile (the bytes read may predate it: read again).
    /// </summary>
    public ulong[]? AddIfCurrent(long offset, ulong[] table, long version)
    {
        lock (_map)
        {
            if (_map.TryGetValue(offset, out var existing))
                return existing.Value.Table;
            return Interlocked.Read(ref _version) == version ? AddLocked(offset, table) : null;
        }
    }

    /// <summary>
    /// After entries went to disk alongside readers: copies them into the cached table at <paramref name="offset"/>,
    /// if it is cached, and moves the version on, so a loader that read the table before the write reads again.
    /// </summary>
    public void Update(long offset, int first, ReadOnlySpan<ulong> entries)
    {
        lock (_map)
        {
            if (_map.TryGetValue(offset, out var node))
                entries.CopyTo(node.Value.Table.AsSpan(first));
            Interlocked.Increment(ref _version);
        }
    }

    /// <summary>Puts <paramref name="table"/> in place of whatever is cached for <paramref name="offset"/>.</summary>
    public void Replace(long offset, ulong[] table)
    {
        lock (_map)
        {
            if (_map.Remove(offset, out var node))
                _lru.Remove(node);
            AddLocked(offset, table);
        }
    }

    public void Remove(long offset)
    {
        lock (_map)
        {
            if (_map.Remove(offset, out var node))
                _lru.Remove(node);
        }
    }

    public void Clear()
    {
        lock (_map)
        {
            _map.Clear();
            _lru.Clear();
        }
    }

    // Called with _map locked.
    private ulong[] AddLocked(long offset, ulong[] table)
    {
        if (_map.TryGetValue(offset, out var existing))
            return existing.Value.Table;
        _map[offset] = _lru.AddFirst((offset, table));
        // Evict from the cold end.
        for (var victim = _lru.Last; _map.Count > _capacity && victim is not null;)
        {
            var previous = victim.Previous;
            _lru.Remove(victim);
            _map.Remove(victim.Value.Offset);
            victim = previous;
        }
        return table;
    }
}
