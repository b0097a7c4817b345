using Qmp.Memory;

namespace Qmp.Cpu.X86;

/// <summary>
/// Translation blocks by physical address and mode, a per-page index for invalidation when the
/// guest writes to code, and a direct-mapped jump cache by linear address so the common lookup
/// is one array load and two compares.
/// </summary>
internal sealed class TranslationCache(X86Cpu cpu)
{
    private const int JumpCacheSize = 4096;

    private readonly Dictionary<(ulong Physical, uint Linear, uint CsBase, uint Mode), TranslationBlock> _blocks = [];
    private readonly Dictionary<long, List<TranslationBlock>> _byPage = [];
    private readonly TranslationBlock?[] _jumpCache = new TranslationBlock?[JumpCacheSize];
    private readonly HashSet<(RamBlock Block, long Page)> _codePages = [];

    public long Translated { get; private set; }

    public long Invalidated { get; private set; }

    public int Count => _blocks.Count;

    public TranslationBlock? LookupFast(uint linear, uint csBase, uint mode)
    {
        var tb = _jumpCache[(linear ^ (linear >> 12)) & (JumpCacheSize - 1)];
        return tb is not null && tb.Linear == linear && tb.CsBase == csBase && tb.ModeFlags == mode && tb.Valid ? tb : null;
    }

    public TranslationBlock? Lookup(ulong physical, uint linear, uint csBase, uint mode)
    {
        if (!_blocks.TryGetValue((physical, linear, csBase, mode), out var tb))
            return null;
        _jumpCache[(linear ^ (linear >> 12)) & (JumpCacheSize - 1)] = tb;
        return tb;
    }

    public void Add(TranslationBlock tb, IEnumerable<(RamBlock Block, long Page)> pages)
    {
        Translated++;
        _blocks[(tb.Physical, tb.Linear, tb.CsBase, tb.ModeFlags)] = tb;
        _jumpCache[(tb.Linear ^ (tb.Linear >> 12)) & (JumpCacheSize - 1)] = tb;
        for (var page = tb.FirstPage; page <= tb.LastPage; page++)
        {
            if (!_byPage.TryGetValue(page, out var list))
                _byPage[page] = list = [];
            list.Add(tb);
        }
        foreach (var (block, page) in pages)
        {
            if (_codePages.Add((block, page)))
            {
                block.SetCodePage(page);
                // Cached write translations of this page must now take the slow path.
                cpu.FlushTlb();
            }
        }
    }

    /// <summary>Drops every block on physical page <paramref name="physicalPage"/>; returns how many.</summary>
    public int InvalidatePage(long physicalPage)
    {
        if (!_byPage.Remove(physicalPage, out var list))
            return 0;
        foreach (var tb in list)
        {
            if (!tb.Valid)
                continue;
            tb.Valid = false;
            Invalidated++;
            _blocks.Remove((tb.Physical, tb.Linear, tb.CsBase, tb.ModeFlags));
        }
        return list.Count;
    }

    /// <summary>Forgets that <paramref name="page"/> of <paramref name="block"/> holds code.</summary>
    public void ReleaseCodePage(RamBlock block, long page)
    {
        if (_codePages.Remove((block, page)))
            block.ClearCodePage(page);
    }

    /// <summary>Clears the jump cache (after the linear-to-physical mapping changed).</summary>
    public void FlushJumpCache() => Array.Clear(_jumpCache);

    public void Clear()
    {
        foreach (var tb in _blocks.Values)
            tb.Valid = false;
        _blocks.Clear();
        _byPage.Clear();
        Array.Clear(_jumpCache);
        foreach (var (block, page) in _codePages)
            block.ClearCodePage(page);
        _codePages.Clear();
    }
}
