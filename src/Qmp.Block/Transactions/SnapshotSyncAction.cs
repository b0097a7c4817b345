namespace Qmp.Block.Transactions;

/// <summary>The blockdev-snapshot-sync action: a new (or existing) qcow2 overlay takes the node's place; abort puts the node back.</summary>
public sealed class SnapshotSyncAction : TransactionAction
{
    /// <inheritdoc/>
    internal override string Name => "blockdev-snapshot-sync";

    private BlockGraph? _graph;
    private BlockNode? _node;
    private BlockNode? _overlay;
    private bool _created;

    /// <summary>device: the drive to snapshot (or <see cref="NodeName"/>).</summary>
    public string? Device { get; init; }

    /// <summary>node-name: the node to snapshot.</summary>
    public string? NodeName { get; init; }

    /// <summary>snapshot-file: the overlay's file.</summary>
    public required string SnapshotFile { get; init; }

    /// <summary>snapshot-node-name: the overlay's node name.</summary>
    public string? SnapshotNodeName { get; init; }

    /// <summary>format (default qcow2).</summary>
    public string Format { get; init; } = "qcow2";

    /// <summary>mode existing: open the file instead of creating it.</summary>
    public bool Existing { get; init; }

    /// <inheritdoc/>
    internal override async Task PrepareAsync(TransactionContext context, CancellationToken cancellationToken)
    {
        var node = context.Graph.Lookup(Device, NodeName);
        var before = node.ParentLinks.Where(l => l.Role == "backing").Select(l => l.Parent).ToHashSet();
        var existed = System.IO.File.Exists(SnapshotFile);
        await context.Graph.SnapshotSyncAsync(Device, NodeName, SnapshotFile, SnapshotNodeName, Format, Existing, cancellationToken).ConfigureAwait(false);
        _graph = context.Graph;
        _node = node;
        _overlay = node.ParentLinks.First(l => l.Role == "backing" && !before.Contains(l.Parent)).Parent;
        _created = !Existing && !existed;
    }

    /// <inheritdoc/>
    internal override Task AbortAsync() => _overlay is null
        ? Task.CompletedTask
        : _graph!.UndoSnapshotAsync(_node!, _overlay, closeOverlay: true, _created ? SnapshotFile : null, CancellationToken.None);
}
