namespace Qmp.Block.Jobs;

/// <summary>block-stream's arguments, as the block layer takes them.</summary>
public sealed record StreamJobOptions
{
    /// <summary>job-id; null: the drive's name.</summary>
    public string? JobId { get; init; }

    /// <summary>The drive or node name of the top image.</summary>
    public required string Device { get; init; }

    /// <summary>base: the base image's file name in the chain.</summary>
    public string? Base { get; init; }

    /// <summary>base-node: the base image's node name.</summary>
    public string? BaseNode { get; init; }

    /// <summary>bottom: the lowest node streamed into the top.</summary>
    public string? Bottom { get; init; }

    /// <summary>backing-file: the string written into the top's header.</summary>
    public string? BackingFile { get; init; }

    /// <summary>filter-node-name (qmpd inserts no copy-on-read filter, so it is refused).</summary>
    public string? FilterNodeName { get; init; }

    /// <summary>The job options (speed, on-error, auto-finalize, auto-dismiss).</summary>
    public JobOptions Job { get; init; } = new();
}
