namespace Qmp.Block.Qcow2;

/// <summary>
/// A least-recently-used cache of decoded L2 tables, keyed by host offset and bounded in bytes.
/// Tables are changed only under the node's metadata write lock and written through, so an evicted
/// table a reader still holds is never stale.
/// </summary>
internal sealed class Qcow2L2Cache
{
    private readonly Dictionary<long, LinkedListNode<(long Offset, ulong[] Table)>> _map = [];
    private readonly LinkedList<(long Offset, ulong[] Table)> _lru = new();
    private readonly int _capacity;

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
        {
            if (_map.TryGetValue(offset, out var existing))
                return existing.Value.Table;
            _map[offset] = _lru.AddFirst((offset, table));
            while (_map.Count > _capacity && _lru.Last is { } last)
            {
                _lru.RemoveLast();
                _map.Remove(last.Value.Offset);
            }
            return table;
        }
    }

    /// <summary>Puts <paramref name="table"/> in place of whatever is cached for <paramref name="offset"/>.</summary>
    public void Replace(long offset, ulong[] table)
    {
        lock (_map)
        {
            if (_map.Remove(offset, out var node))
                _lru.Remove(node);
        }
        Add(offset, table);
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
}
