using Microsoft.Extensions.Logging;
using Qmp.Memory;
using Qmp.Migration.Stream;

namespace Qmp.Migration;

/// <summary>
/// Runs the migration's own code once on scratch RAM and an empty block graph, so that a first migration does not
/// pay first-call costs (type loading, stubs, code the ReadyToRun image leaves to the JIT) inside its measured
/// time: on a background thread once the daemon runs, or, on a destination, when its incoming migration starts
/// and before the stream comes (a thread there would compete with the stream). Measured on the ReadyToRun
/// publish: an idle guest's first migration took 30 ms, the second in the same process 5 ms. Nothing here touches
/// the guest.
/// </summary>
public static class MigrationWarmUp
{
    private const long ScratchSize = 4 << 20;

    /// <summary>Starts the warm-up thread; failures are logged at debug level and cost only the warm-up.</summary>
    public static void Start(ILogger logger)
    {
        var thread = new Thread(() => Run(logger)) { Name = "migration warm-up", IsBackground = true };
        thread.Start();
    }

    private static void Run(ILogger logger)
    {
        try
        {
            RunOnce();
        }
        catch (Exception e)
        {
            logger.LogDebug(e, "The migration warm-up failed");
        }
    }

    /// <summary>One round of the warm-up, on the calling thread; throws what the migration code throws.</summary>
    internal static void RunOnce()
    {
        var stream = new MemoryStream();
        Send(stream);
        stream.Position = 0;
        Receive(stream);
        var graph = new Qmp.Block.BlockGraph();
        try
        {
            graph.InactivateAllAsync().GetAwaiter().GetResult();
            graph.ActivateAllAsync().GetAwaiter().GetResult();
        }
        finally
        {
            graph.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    // The source's side: two passes over a block with data, zero and untouched pages, as OutgoingMigration runs them.
    private static void Send(MemoryStream stream)
    {
        using var ram = RamBlock.CreateAnonymous("warm-up", ScratchSize);
        ram.GetSpan(0, 64 * MigrationFormat.PageSize).Fill(1);
        ram.GetSpan(64 * MigrationFormat.PageSize, MigrationFormat.PageSize).Clear();
        using var sender = new RamSender([ram]);
        var limiter = new RateLimiter(() => long.MaxValue, CancellationToken.None);
        var writer = new MigrationWriter(stream, limiter);
        var counters = new RamCounters();
        writer.WriteHeader();
        writer.WriteConfig(new MigrationConfig("warm-up", [new RamBlockInfo(ram.Name, ram.Size)], null));
        sender.StartTracking();
        sender.Sync();
        sender.SendPending(writer, counters, CancellationToken.None);
        writer.Flush();
        ram.Dirty.Mark(0, 2 * MigrationFormat.PageSize);
        _ = sender.DirtiedSinceSync();
        sender.Sync();
        sender.SendPending(writer, counters, CancellationToken.None);
        writer.WriteEnd();
        writer.Flush();
        sender.StopTracking();
    }

    // The destination's side: the same stream into fresh scratch RAM, as IncomingMigration loads it.
    private static void Receive(MemoryStream stream)
    {
        using var ram = RamBlock.CreateAnonymous("warm-up", ScratchSize);
        var reader = new MigrationReader(stream);
        reader.ReadHeader();
        if (reader.ReadTag() != RecordTag.Config)
            throw new InvalidOperationException("the warm-up stream does not start with its configuration");
        reader.ReadConfig();
        var written = new long[(ram.Pages + 63) / 64];
        var counters = new RamCounters();
        while (reader.ReadTag() == RecordTag.Ram)
            reader.ReadRam([ram], [written], counters);
        // The stream must have carried what Send wrote: the first pass's 64 data pages, then the two marked again.
        if (counters.Normal != 66 || ram.GetSpan(0, 1)[0] != 1)
            throw new InvalidOperationException($"the warm-up stream loaded {counters.Normal} data pages, not 66");
    }
}
