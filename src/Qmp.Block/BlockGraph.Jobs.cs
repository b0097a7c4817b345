using Qmp.Block.Jobs;

namespace Qmp.Block;

public sealed partial class BlockGraph
{
    /// <summary>The graph's jobs (block-stream and the job-* commands).</summary>
    public JobRegistry Jobs { get; } = new();

    /// <summary>Closes <paramref name="node"/> (and its children no one else uses) when nothing uses it and the monitor does not own it; the caller holds the graph lock.</summary>
    internal async ValueTask CloseIfUnusedAsync(BlockNode node)
    {
        bool keep;
        lock (_nodes)
            keep = _monitorOwned.Contains(node) || !_nodes.Contains(node);
        if (!keep && !node.InUse)
            await CloseUnusedAsync(node).ConfigureAwait(false);
    }
}
