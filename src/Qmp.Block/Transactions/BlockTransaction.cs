using Qmp.Block.Jobs;

namespace Qmp.Block.Transactions;

/// <summary>
/// The transaction command (QEMU's qmp_transaction): all I/O is drained, every action is prepared in order;
/// if one fails, the prepared ones are aborted in reverse order and its error is the command's; else all
/// commit (jobs start) and clean. With completion-mode grouped the jobs share one <see cref="JobTransaction"/>.
/// </summary>
public static class BlockTransaction
{
    /// <summary>Runs <paramref name="actions"/> as one transaction.</summary>
    public static async Task RunAsync(BlockGraph graph, IReadOnlyList<TransactionAction> actions, bool grouped, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(actions);
        var context = new TransactionContext(graph, grouped ? new JobTransaction() : null);
        // Held to the end, so the guest writes nothing between two actions: snapshots and backups share one instant.
        using var drained = await graph.DrainAllAsync(cancellationToken).ConfigureAwait(false);
        var prepared = new List<TransactionAction>();
        try
        {
            foreach (var action in actions)
            {
                if (grouped && !action.SupportsGrouped)
                    throw new BlockGraphException($"Action '{action.Name}' does not support Transaction property completion-mode = grouped");
                await action.PrepareAsync(context, cancellationToken).ConfigureAwait(false);
                prepared.Add(action);
            }
        }
        catch
        {
            for (var i = prepared.Count - 1; i >= 0; i--)
                await prepared[i].AbortAsync().ConfigureAwait(false);
            foreach (var action in prepared)
                action.Clean();
            throw;
        }
        foreach (var action in prepared)
            action.Commit();
        foreach (var action in prepared)
            action.Clean();
    }
}
