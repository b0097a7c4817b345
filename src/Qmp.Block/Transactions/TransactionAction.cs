namespace Qmp.Block.Transactions;

/// <summary>
/// One action of the transaction command (QEMU's BlkActionOps): prepare does the work that can fail and can be
/// undone; commit makes it final (starts jobs); abort undoes a prepared action; clean runs after either.
/// </summary>
public abstract class TransactionAction
{
    /// <summary>The action's QAPI name ("blockdev-backup"), for errors.</summary>
    internal abstract string Name { get; }

    /// <summary>Whether the action accepts completion-mode grouped (only the job-starting ones do, as in QEMU).</summary>
    internal virtual bool SupportsGrouped => false;

    /// <summary>Does the action's work; throws (having undone its own partial work) to fail the transaction.</summary>
    internal abstract Task PrepareAsync(TransactionContext context, CancellationToken cancellationToken);

    /// <summary>Every action prepared: the action takes effect (jobs start).</summary>
    internal virtual void Commit()
    {
    }

    /// <summary>Another action failed: undoes what <see cref="PrepareAsync"/> did.</summary>
    internal virtual Task AbortAsync() => Task.CompletedTask;

    /// <summary>After commit or abort (drained sections end).</summary>
    internal virtual void Clean()
    {
    }
}
