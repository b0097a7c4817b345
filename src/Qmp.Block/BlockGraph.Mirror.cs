using Qmp.Block.Options;

namespace Qmp.Block;

// What drive-mirror needs of the graph: a target tree the monitor does not own, and closing it again.
public sealed partial class BlockGraph
{
    /// <summary>Opens a node tree no one owns yet (drive-mirror's target); the caller holds the graph lock.</summary>
    internal Task<BlockNode> OpenUnownedAsync(BlockdevOptions options, CancellationToken cancellationToken) =>
        OpenTreeAsync(options, null, cancellationToken);

    /// <summary>Closes an unowned node no one uses, with its unused children (a failed drive-mirror's target); the caller holds the graph lock.</summary>
    internal ValueTask CloseUnownedAsync(BlockNode node) => CloseIfUnusedAsync(node);
}
