namespace Qmp.Block.Jobs;

/// <summary>
/// The mirror's dirty bitmap: one bit per granularity-sized chunk of the source. Guest writes set bits
/// (after they changed the source), the job clears a run before it reads it, so a write racing the copy
/// always leaves its chunk dirty. Setting completes <see cref="WhenDirty"/>, which wakes an idle job.
/// </summary>
internal sealed class MirrorDirtyBitmap
{
    private readonly object _lock = new();
    private readonly ulong[] _words;
    private readonly long _length;
    private long _count;
    private long _cursor;
    private TaskCompletionSource _dirtied = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MirrorDirtyBitmap(long length, long granularity)
    {
        _length = length;
        Granularity = granularity;
        Chunks = (length + granularity - 1) / granularity;
        _words = new ulong[(Chunks + 63) / 64];
    }

    /// <summary>Bytes per bit.</summary>
    public long Granularity { get; }

    /// <summary>Bits in the map.</summary>
    public long Chunks { get; }

    /// <summary>Dirty chunks.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Dirty bytes (QEMU's bdrv_get_dirty_count: whole chunks, the last one cut at the end).</summary>
    public long DirtyBytes
    {
        get
        {
            lock (_lock)
            {
                var bytes = _count * Granularity;
                if (_count > 0 && IsSet(Chunks - 1))
                    bytes -= Chunks * Granularity - _length;
                return bytes;
            }
        }
    }

    /// <summary>Completes the next time a bit is set.</summary>
    public Task WhenDirty
    {
        get
        {
            lock (_lock)
                return _count > 0 ? Task.CompletedTask : _dirtied.Task;
        }
    }

    /// <summary>Marks every chunk that overlaps [offset, offset+length) dirty.</summary>
    public void Set(long offset, long length)
    {
        if (length <= 0 || offset >= _length)
            return;
        var first = offset / Granularity;
        var last = Math.Min(Chunks - 1, (offset + length - 1) / Granularity);
        TaskCompletionSource? wake = null;
        lock (_lock)
        {
            for (var chunk = first; chunk <= last; chunk++)
            {
                ref var word = ref _words[chunk >> 6];
                var bit = 1UL << (int)(chunk & 63);
                if ((word & bit) == 0)
                {
                    word |= bit;
                    _count++;
                }
            }
            if (_count > 0)
            {
                wake = _dirtied;
                _dirtied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        wake?.TrySetResult();
    }

    /// <summary>
    /// Finds the next dirty chunk from where the last search stopped (wrapping around), clears it and up to
    /// <paramref name="maxChunks"/>-1 dirty chunks right after it, and returns the byte range; false when clean.
    /// </summary>
    public bool TryTake(int maxChunks, out long offset, out long length)
    {
        lock (_lock)
        {
            offset = length = 0;
            if (_count == 0)
                return false;
            var start = FindFrom(_cursor) ?? FindFrom(0);
            if (start is not { } first)
                return false;
            var chunk = first;
            while (chunk < Chunks && chunk - first < maxChunks && IsSet(chunk))
            {
                _words[chunk >> 6] &= ~(1UL << (int)(chunk & 63));
                _count--;
                chunk++;
            }
            _cursor = chunk == Chunks ? 0 : chunk;
            offset = first * Granularity;
            length = Math.Min(_length, chunk * Granularity) - offset;
            return true;
        }
    }

    private bool IsSet(long chunk) => (_words[chunk >> 6] & (1UL << (int)(chunk & 63))) != 0;

    private long? FindFrom(long chunk)
    {
        for (var index = chunk >> 6; index < _words.Length; index++)
        {
            var word = _words[index];
            if (index == chunk >> 6)
                word &= ulong.MaxValue << (int)(chunk & 63);
            if (word != 0)
                return (index << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
        }
        return null;
    }
}
