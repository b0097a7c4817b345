namespace Qmp.Block.Qcow2;

/// <summary>
/// A least-recently-used cache of decoded L2 tables, keyed by host offset and bounded in bytes.
/// Tables change under the node's metadata write lock, or under the allocation lock while readers run
/// (<see cref="Pin"/>); either way they are written through, so an evicted table a reader still holds is never stale.
/// </summary>
/// <remarks>
/// A table being changed while readers run is pinned (never evicted), and every such change bumps
/// <see cref="Version"/> once its bytes are on disk: a loader whose disk read may have raced a change
/// (the version moved) reads again instead of caching what it read.
/// </remarks>
internal sealed class Qcow2L2Cache
{
    private readonly Dictionary<long, LinkedListNode<(long Offset, ulong[] Table)>> _map = [];
    private readonly Dictionary<long, int> _pins = [];
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

    /// <summary>Keeps the cached table at <paramref name="offset"/> from eviction until <see cref="Unpin"/>; false if it is not cached.</summary>
    public bool Pin(long offset, out ulong[] table)
    {
        lock (_map)
        {
            if (!_map.TryGetValue(offset, out var node))
            {
                table = [];
                return false;
            }
            _pins[offset] = _pins.GetValueOrDefault(offset) + 1;
            table = node.Value.Table;
            return true;
        }
    }

    /// <summary>Ends a pin after the change is on disk, and moves the version on.</summary>
    public void Unpin(long offset)
    {
        lock (_map)
        {
            Interlocked.Increment(ref _version);
            if (_pins.TryGetValue(offset, out var pins) && pins > 1)
                _pins[offset] = pins - 1;
            else
                _pins.Remove(offset);
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
            _pins.Clear();
        }
    }

    // Called with _map locked.
    private ulong[] AddLocked(long offset, ulong[] table)
    {
        if (_map.TryGetValue(offset, out var existing))
            return existing.Value.Table;
        _map[offset] = _lru.AddFirst((offset, table));
        // Evict from the cold end, passing over pinned tables (a handful at most).
        for (var victim = _lru.Last; _map.Count > _capacity && victim is not null;)
        {
            var previous = victim.Previous;
            if (!_pins.ContainsKey(victim.Value.Offset))
            {
                _lru.Remove(victim);
                _map.Remove(victim.Value.Offset);
            }
            victim = previous;
        }
        return table;
    }
}
