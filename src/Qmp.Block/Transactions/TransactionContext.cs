using Qmp.Block.Jobs;

namespace Qmp.Block.Transactions;

/// <summary>What the actions of one transaction share: the graph, the job transaction (grouped) and the job ids taken so far.</summary>
internal sealed class TransactionContext(BlockGraph graph, JobTransaction? jobs)
{
    /// <summary>The graph the actions change.</summary>
    public BlockGraph Graph { get; } = graph;

    /// <summary>The jobs' transaction with completion-mode grouped, else null.</summary>
    public JobTransaction? Jobs { get; } = jobs;

    /// <summary>Ids of the jobs earlier actions made (not in the registry until the commit).</summary>
    public HashSet<string> JobIds { get; } = [];
}
