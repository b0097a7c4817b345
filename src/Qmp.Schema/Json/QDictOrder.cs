using System.Text;

namespace Qmp.Schema.Json;

/// <summary>
/// QEMU prints an object's members in the iteration order of its QDict: by hash bucket (TDB's
/// string hash modulo 512), and within a bucket the most recently inserted member first. Copying
/// that makes qmpd's output byte-identical to QEMU's, which golden transcripts and replay tools
/// rely on even though clients must not.
/// </summary>
public static class QDictOrder
{
    private const int BucketCount = 512;

    // Member names repeat endlessly ("return", "id", ...): remember their buckets, up to a bound
    // so that arbitrary client-chosen keys cannot grow the cache without limit.
    private const int CacheLimit = 4096;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _cache = new(StringComparer.Ordinal);

    /// <summary>The bucket QEMU's QDict puts <paramref name="key"/> in.</summary>
    public static int Bucket(string key)
    {
        if (_cache.TryGetValue(key, out var cached))
            return cached;
        var bucket = ComputeBucket(key);
        if (_cache.Count < CacheLimit)
            _cache.TryAdd(key, bucket);
        return bucket;
    }

    private static int ComputeBucket(string key)
    {
        Span<byte> buffer = key.Length <= 128 ? stackalloc byte[key.Length * 3] : new byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var length = Encoding.UTF8.GetBytes(key, buffer);
        var bytes = buffer[..length];
        unchecked
        {
            var value = 0x238F13AFu * (uint)bytes.Length;
            for (var i = 0; i < bytes.Length; i++)
                value += (uint)bytes[i] << (i * 5 % 24);
            return (int)((1103515243u * value + 12345u) % BucketCount);
        }
    }

    /// <summary>
    /// Fills <paramref name="order"/> with the indices of <paramref name="keys"/> (given in
    /// insertion order) in the order QEMU would print them.
    /// </summary>
    public static void Sort(IReadOnlyList<string> keys, Span<int> order)
    {
        var count = keys.Count;
        Span<long> sortKeys = count <= 64 ? stackalloc long[count] : new long[count];
        for (var i = 0; i < count; i++)
        {
            // Bucket ascending, then later insertions first.
            sortKeys[i] = ((long)Bucket(keys[i]) << 32) | (uint)(int.MaxValue - i);
            order[i] = i;
        }
        sortKeys.Sort(order);
    }
}
