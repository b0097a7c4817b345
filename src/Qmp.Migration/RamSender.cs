using System.Numerics;
using Qmp.Memory;
using Qmp.Migration.Stream;

namespace Qmp.Migration;

/// <summary>
/// The source's RAM side of precopy: its own bitmap of pages still to send per block, filled from the
/// migration dirty log at each sync and emptied as pages go out, in runs of consecutive pages. Pages of
/// anonymous RAM that were never faulted in are known to be zero without reading them (the pagemap), so an
/// idle guest's untouched RAM costs one zero-run record, not a scan. Used by the migration thread only;
/// the dirty log itself is shared with the guest's writers.
/// </summary>
internal sealed class RamSender(IReadOnlyList<RamBlock> blocks) : IDisposable
{
    // Pages per pagemap read: 32 KiB of entries.
    private const int ChunkPages = 4096;
    private readonly long[][] _pending = [.. blocks.Select(b => new long[(b.Pages + 63) / 64])];
    private readonly PageResidency _residency = PageResidency.Open(ChunkPages);
    private readonly long[] _untouched = new long[ChunkPages / 64];
    private long _pendingPages;

    /// <summary>The blocks, in the configuration record's order.</summary>
    public IReadOnlyList<RamBlock> Blocks => blocks;

    /// <summary>Pages still to send.</summary>
    public long PendingPages => Volatile.Read(ref _pendingPages);

    /// <summary>Total RAM in bytes.</summary>
    public long TotalBytes => blocks.Sum(b => b.Size);

    /// <summary>Starts dirty logging with every page dirty (the first pass sends all of RAM). Call on the machine thread.</summary>
    public void StartTracking()
    {
        foreach (var block in blocks)
            block.Dirty.Start(DirtyClient.Migration, allDirty: true);
    }

    /// <summary>Stops dirty logging.</summary>
    public void StopTracking()
    {
        foreach (var block in blocks)
        {
            if (block.Dirty.IsEnabled(DirtyClient.Migration))
                block.Dirty.Stop(DirtyClient.Migration);
        }
    }

    /// <summary>Syncs the dirty log into the pending bitmaps; returns the pages newly pending.</summary>
    public long Sync()
    {
        long added = 0;
        for (var i = 0; i < blocks.Count; i++)
            added += blocks[i].Dirty.SyncInto(DirtyClient.Migration, _pending[i]);
        Interlocked.Add(ref _pendingPages, added);
        return added;
    }

    /// <summary>Pages written since the last sync (not yet pending).</summary>
    public long DirtiedSinceSync() => blocks.Sum(b => b.Dirty.Count(DirtyClient.Migration));

    /// <summary>
    /// Sends every pending page, in ascending order, as runs: consecutive zero pages in one record, consecutive
    /// pages with data in records of up to <see cref="MigrationFormat.MaxPagesPerRecord"/>.
    /// </summary>
    // Not AggressiveOptimization: that would compile it fully at its first call (tens of milliseconds on a loaded
    // host, measured) and keep it out of ReadyToRun images; its loops reach optimised code through OSR.
    public void SendPending(MigrationWriter writer, RamCounters counters, CancellationToken cancellationToken)
    {
        for (var b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var pending = _pending[b];
            var run = new Run(writer, counters, b, block);
            for (long chunk = 0; chunk < block.Pages; chunk += ChunkPages)
            {
                var chunkPages = (int)Math.Min(ChunkPages, block.Pages - chunk);
                var firstWord = (int)(chunk >> 6);
                var words = (chunkPages + 63) >> 6;
                if (pending.AsSpan(firstWord, words).IndexOfAnyExcept(0L) < 0)
                {
                    run.End();
                    continue;
                }
                cancellationToken.ThrowIfCancellationRequested();
                _residency.TryReadUntouched(block, chunk, chunkPages, _untouched);
                long taken = 0;
                for (var w = 0; w < words; w++)
                {
                    var word = pending[firstWord + w];
                    if (word == 0)
                    {
                        run.End();
                        continue;
                    }
                    pending[firstWord + w] = 0;
                    taken += BitOperations.PopCount((ulong)word);
                    var first = chunk + ((long)w << 6);
                    var untouched = _untouched[w];
                    if (word == -1 && untouched == -1)
                    {
                        run.AddZero(first, 64);
                        continue;
                    }
                    for (var bit = 0; bit < 64; bit++)
                    {
                        if ((word & (1L << bit)) == 0)
                        {
                            run.End();
                            continue;
                        }
                        var page = first + bit;
                        if ((untouched & (1L << bit)) != 0 || !block.GetSpan(page * MigrationFormat.PageSize, MigrationFormat.PageSize).ContainsAnyExcept((byte)0))
                            run.AddZero(page, 1);
                        else
                            run.AddData(page);
                    }
                }
                Interlocked.Add(ref _pendingPages, -taken);
            }
            run.End();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _residency.Dispose();

    // The run being built: consecutive pages of one kind, written out when the kind changes, a page is skipped
    // or a data record is full.
    private struct Run(MigrationWriter writer, RamCounters counters, int blockIndex, RamBlock block)
    {
        private long _start;
        private long _count;
        private byte _kind;

        public void AddZero(long page, int pages)
        {
            if (_count > 0 && (_kind != MigrationFormat.RamZero || _start + _count != page))
                End();
            if (_count == 0)
            {
                _kind = MigrationFormat.RamZero;
                _start = page;
            }
            _count += pages;
        }

        public void AddData(long page)
        {
            if (_count > 0 && (_kind != MigrationFormat.RamData || _start + _count != page || _count == MigrationFormat.MaxPagesPerRecord))
                End();
            if (_count == 0)
            {
                _kind = MigrationFormat.RamData;
                _start = page;
            }
            _count++;
        }

        public void End()
        {
            if (_count == 0)
                return;
            if (_kind == MigrationFormat.RamZero)
                writer.WriteZeroRun(blockIndex, _start, _count, counters);
            else
                writer.WriteDataRun(blockIndex, block, _start, (int)_count, counters);
            _count = 0;
        }
    }
}
