namespace Qmp.Block.Transactions;

/// <summary>The abort action (for tests): its prepare always fails.</summary>
public sealed class AbortAction : TransactionAction
{
    /// <inheritdoc/>
    internal override string Name => "abort";

    /// <inheritdoc/>
    internal override bool SupportsGrouped => true;

    /// <inheritdoc/>
    internal override Task PrepareAsync(TransactionContext context, CancellationToken cancellationToken) =>
        throw new BlockGraphException("Transaction aborted using Abort action");
}
