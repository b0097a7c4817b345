using System.Numerics;
using Qmp.Memory;
using Qmp.Migration.Stream;

namespace Qmp.Migration;

/// <summary>
/// The source's RAM side of precopy: its own bitmap of pages still to send per block, filled from the
/// migration dirty log at each sync and emptied as pages go out. Used by the migration thread only; the
/// dirty log itself is shared with the guest's writers.
/// </summary>
internal sealed class RamSender(IReadOnlyList<RamBlock> blocks)
{
    private readonly long[][] _pending = [.. blocks.Select(b => new long[(b.Pages + 63) / 64])];
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

    /// <summary>Sends every pending page, in RAM records of up to 256 pages.</summary>
    public void SendPending(MigrationWriter writer, RamCounters counters, CancellationToken cancellationToken)
    {
        Span<long> batch = stackalloc long[MigrationFormat.MaxPagesPerRecord];
        for (var b = 0; b < blocks.Count; b++)
        {
            var pending = _pending[b];
            var count = 0;
            for (var w = 0; w < pending.Length; w++)
            {
                var word = pending[w];
                if (word == 0)
                    continue;
                pending[w] = 0;
                Interlocked.Add(ref _pendingPages, -BitOperations.PopCount((ulong)word));
                while (word != 0)
                {
                    var bit = BitOperations.TrailingZeroCount(word);
                    word &= word - 1;
                    batch[count++] = ((long)w << 6) + bit;
                    if (count == batch.Length)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        writer.WriteRam(b, blocks[b], batch, counters);
                        count = 0;
                    }
                }
            }
            if (count > 0)
                writer.WriteRam(b, blocks[b], batch[..count], counters);
        }
    }
}
