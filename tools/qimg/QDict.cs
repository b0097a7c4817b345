namespace Qmp.Img;

/// <summary>
/// A JSON object that iterates like QEMU's QDict: by hash bucket (tdb_hash(key) % 512), and within a bucket
/// the most recently inserted first. qemu-img prints its JSON (info, check) and the "Format specific
/// information" section in this order, so matching it byte for byte needs the same hash. Values are
/// string, long, bool, <see cref="QDict"/> or a list of those.
/// </summary>
internal sealed class QDict
{
    private const int BucketCount = 512;

    private readonly List<KeyValuePair<string, object>> _entries = [];

    public int Count => _entries.Count;

    public object? this[string key] => _entries.Find(e => e.Key == key).Value;

    /// <summary>qdict_put: adds the key, or replaces its value in place.</summary>
    public QDict Put(string key, object value)
    {
        var index = _entries.FindIndex(e => e.Key == key);
        if (index >= 0)
            _entries[index] = new(key, value);
        else
            _entries.Add(new(key, value));
        return this;
    }

    /// <summary>Adds the key only when <paramref name="value"/> is not null (QAPI's optional members).</summary>
    public QDict PutOptional(string key, object? value) => value is null ? this : Put(key, value);

    /// <summary>The entries in qdict_first/qdict_next order.</summary>
    public IEnumerable<KeyValuePair<string, object>> InQemuOrder() =>
        _entries.Select((entry, index) => (entry, index))
            .OrderBy(e => Bucket(e.entry.Key))
            .ThenByDescending(e => e.index)
            .Select(e => e.entry);

    /// <summary>QEMU's tdb_hash (qobject/qdict.c) modulo the bucket count.</summary>
    internal static uint Bucket(string key)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(key);
        var value = unchecked(0x238F13AFu * (uint)bytes.Length);
        for (var i = 0; i < bytes.Length; i++)
            value = unchecked(value + ((uint)bytes[i] << (i * 5 % 24)));
        return unchecked((1103515243u * value) + 12345u) % BucketCount;
    }
}
