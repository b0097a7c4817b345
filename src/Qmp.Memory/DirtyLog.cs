using System.Numerics;

namespace Qmp.Memory;

/// <summary>
/// Per-client bitmaps of written pages of one RAM block. Marking is lock-free (guest thread and
/// DMA completions may race); a client's bitmap only records while that client has logging on.
/// </summary>
public sealed class DirtyLog
{
    private const int ClientCount = 2;
    private readonly long[]?[] _bitmaps = new long[ClientCount][];
    private readonly long _pages;
    private volatile int _enabledMask;

    internal DirtyLog(long pages) => _pages = pages;

    /// <summary>True when at least one client records writes; the CPU's fast write path checks this.</summary>
    public bool AnyEnabled => _enabledMask != 0;

    /// <summary>Whether <paramref name="client"/> records writes.</summary>
    public bool IsEnabled(DirtyClient client) => (_enabledMask & (1 << (int)client)) != 0;

    /// <summary>Starts recording for <paramref name="client"/>; with <paramref name="allDirty"/> every page starts dirty (migration's first pass).</summary>
    public void Start(DirtyClient client, bool allDirty)
    {
        var bitmap = new long[(_pages + 63) / 64];
        if (allDirty)
        {
            Array.Fill(bitmap, -1L);
            var tail = (int)(_pages % 64);
            if (tail != 0)
                bitmap[^1] = (1L << tail) - 1;
        }
        _bitmaps[(int)client] = bitmap;
        _enabledMask |= 1 << (int)client;
        Changed?.Invoke();
    }

    /// <summary>Stops recording for <paramref name="client"/> and drops its bitmap.</summary>
    public void Stop(DirtyClient client)
    {
        _enabledMask &= ~(1 << (int)client);
        _bitmaps[(int)client] = null;
        Changed?.Invoke();
    }

    /// <summary>Raised when logging starts or stops, so CPUs drop cached fast write paths.</summary>
    public event Action? Changed;

    /// <summary>Records a write of <paramref name="length"/> bytes at <paramref name="offset"/> in the block.</summary>
    public void Mark(long offset, long length)
    {
        var mask = _enabledMask;
        if (mask == 0 || length <= 0)
            return;
        var first = offset >> PageSize.Shift;
        var last = (offset + length - 1) >> PageSize.Shift;
        for (var client = 0; client < ClientCount; client++)
        {
            if ((mask & (1 << client)) == 0 || _bitmaps[client] is not { } bitmap)
                continue;
            for (var page = first; page <= last; page++)
                Interlocked.Or(ref bitmap[page >> 6], 1L << (int)(page & 63));
        }
    }

    /// <summary>Whether <paramref name="page"/> is dirty for <paramref name="client"/>.</summary>
    public bool IsDirty(DirtyClient client, long page) =>
        _bitmaps[(int)client] is { } bitmap && (Volatile.Read(ref bitmap[page >> 6]) & (1L << (int)(page & 63))) != 0;

    /// <summary>Clears and returns whether <paramref name="page"/> was dirty for <paramref name="client"/>.</summary>
    public bool TestAndClear(DirtyClient client, long page)
    {
        if (_bitmaps[(int)client] is not { } bitmap)
            return false;
        var bit = 1L << (int)(page & 63);
        return (Interlocked.And(ref bitmap[page >> 6], ~bit) & bit) != 0;
    }

    /// <summary>
    /// Moves the dirty bits of <paramref name="client"/> into <paramref name="pending"/> (one bit per page) and
    /// clears them, word by word and atomically against concurrent marks, so a write is either in this sync or
    /// in the next one (QEMU's migration bitmap sync). Returns how many bits were newly set in <paramref name="pending"/>.
    /// </summary>
    public long SyncInto(DirtyClient client, long[] pending)
    {
        if (_bitmaps[(int)client] is not { } bitmap)
            return 0;
        if (pending.Length != bitmap.Length)
            throw new ArgumentException($"pending bitmap has {pending.Length} words, the log {bitmap.Length}", nameof(pending));
        long added = 0;
        for (var i = 0; i < bitmap.Length; i++)
        {
            if (Volatile.Read(ref bitmap[i]) == 0)
                continue;
            var word = Interlocked.Exchange(ref bitmap[i], 0);
            added += BitOperations.PopCount((ulong)(word & ~pending[i]));
            pending[i] |= word;
        }
        return added;
    }

    /// <summary>Number of dirty pages for <paramref name="client"/>.</summary>
    public long Count(DirtyClient client)
    {
        if (_bitmaps[(int)client] is not { } bitmap)
            return 0;
        long count = 0;
        foreach (var word in bitmap)
            count += BitOperations.PopCount((ulong)word);
        return count;
    }
}
