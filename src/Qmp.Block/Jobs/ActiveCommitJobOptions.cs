namespace Qmp.Block.Jobs;

/// <summary>Active block-commit's arguments (top is the device's active layer), as the block layer takes them.</summary>
public sealed record ActiveCommitJobOptions
{
    /// <summary>job-id; null: the drive's name.</summary>
    public string? JobId { get; init; }

    /// <summary>The drive or node name of the active layer (the root of the chain).</summary>
    public required string Device { get; init; }

    /// <summary>The node name of the base the chain above it is committed into; null: the bottom of the chain.</summary>
    public string? BaseNode { get; init; }

    /// <summary>backing-file (refused: the active layer has no overlay to write it into).</summary>
    public string? BackingFile { get; init; }

    /// <summary>filter-node-name (qmpd inserts no filter node, so it is refused).</summary>
    public string? FilterNodeName { get; init; }

    /// <summary>The job options (speed, on-error for both sides, auto-finalize, auto-dismiss).</summary>
    public JobOptions Job { get; init; } = new();
}
