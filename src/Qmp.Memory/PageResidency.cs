using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmp.Memory;

/// <summary>
/// Finds pages of anonymous guest RAM that were never faulted in (or were discarded), from
/// <c>/proc/self/pagemap</c>, without reading them: such a page is neither present nor swapped out, and a
/// private anonymous mapping reads it as zeroes. Migration sends those as zero runs without scanning them,
/// which for a mostly idle guest is most of its RAM. One instance per thread (it reuses a buffer).
/// </summary>
public sealed unsafe class PageResidency : IDisposable
{
    // pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst): 63 present, 62 swapped.
    private const ulong Present = 1UL << 63;
    private const ulong Swapped = 1UL << 62;
    private readonly ulong[] _entries;
    private readonly SafeFileHandle? _pagemap;

    private PageResidency(SafeFileHandle? pagemap, int maxPages)
    {
        _pagemap = pagemap;
        _entries = new ulong[maxPages];
    }

    /// <summary>Most pages one <see cref="TryReadUntouched"/> call covers.</summary>
    public int MaxPages => _entries.Length;

    /// <summary>Opens the pagemap; without one (not Linux, no procfs) every query answers "unknown".</summary>
    public static PageResidency Open(int maxPages = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPages, 64);
        SafeFileHandle? pagemap = null;
        try
        {
            if (OperatingSystem.IsLinux())
                pagemap = File.OpenHandle("/proc/self/pagemap");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No procfs: every query answers "unknown".
        }
        return new PageResidency(pagemap, maxPages & ~63);
    }

    /// <summary>
    /// Sets bit <c>i</c> of <paramref name="untouched"/> (64 pages per word, from <paramref name="firstPage"/>) when
    /// page <c>firstPage + i</c> of <paramref name="block"/> is known to read as zero because it was never faulted
    /// in. Returns false, leaving <paramref name="untouched"/> cleared, when that cannot be known: memfd RAM (a page
    /// absent from this mapping may hold data in the file), or no pagemap.
    /// </summary>
    public bool TryReadUntouched(RamBlock block, long firstPage, int pages, Span<long> untouched)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pages, _entries.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(untouched.Length, (pages + 63) / 64);
        if (firstPage < 0 || firstPage > block.Pages - pages)
            throw new ArgumentOutOfRangeException(nameof(firstPage), $"pages {firstPage}+{pages} are outside RAM block '{block.Name}'");
        untouched[..((pages + 63) / 64)].Clear();
        if (_pagemap is null || block.Fd >= 0 || block.Host == null || pages == 0)
            return false;
        var address = (ulong)block.Host + ((ulong)firstPage << PageSize.Shift);
        var entries = MemoryMarshal.AsBytes(_entries.AsSpan(0, pages));
        try
        {
            if (RandomAccess.Read(_pagemap, entries, (long)(address >> PageSize.Shift) * sizeof(ulong)) != entries.Length)
                return false;
        }
        catch (IOException)
        {
            return false;
        }
        for (var i = 0; i < pages; i++)
        {
            if ((_entries[i] & (Present | Swapped)) == 0)
                untouched[i >> 6] |= 1L << (i & 63);
        }
        return true;
    }

    /// <inheritdoc/>
    public void Dispose() => _pagemap?.Dispose();
}
