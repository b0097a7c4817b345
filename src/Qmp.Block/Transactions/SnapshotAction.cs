namespace Qmp.Block.Transactions;

/// <summary>The blockdev-snapshot action: an overlay added with blockdev-add takes the node's place; abort gives it back to the monitor.</summary>
public sealed class SnapshotAction : TransactionAction
{
    /// <inheritdoc/>
    internal override string Name => "blockdev-snapshot";

    private BlockGraph? _graph;
    private BlockNode? _node;
    private BlockNode? _overlay;

    /// <summary>node: the device or node to snapshot.</summary>
    public required string Node { get; init; }

    /// <summary>overlay: the node that becomes the new top.</summary>
    public required string Overlay { get; init; }

    /// <inheritdoc/>
    internal override async Task PrepareAsync(TransactionContext context, CancellationToken cancellationToken)
    {
        await context.Graph.SnapshotAsync(Node, Overlay, cancellationToken).ConfigureAwait(false);
        _graph = context.Graph;
        _overlay = context.Graph.FindNode(Overlay);
        _node = _overlay?.Backing;
    }

    /// <inheritdoc/>
    internal override Task AbortAsync() => _overlay is null || _node is null
        ? Task.CompletedTask
        : _graph!.UndoSnapshotAsync(_node, _overlay, closeOverlay: false, null, CancellationToken.None);
}
