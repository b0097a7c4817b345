namespace Qmp.Block.Jobs;

/// <summary>block-commit's arguments, as the block layer takes them.</summary>
public sealed record CommitJobOptions
{
    /// <summary>job-id; null: the drive's name.</summary>
    public string? JobId { get; init; }

    /// <summary>device: the drive or node name of a root node.</summary>
    public required string Device { get; init; }

    /// <summary>top-node: the highest node committed (default: the active layer).</summary>
    public string? TopNode { get; init; }

    /// <summary>top: the highest image committed, by file name.</summary>
    public string? Top { get; init; }

    /// <summary>base-node: the node written into (default: the bottom of the chain).</summary>
    public string? BaseNode { get; init; }

    /// <summary>base: the image written into, by file name.</summary>
    public string? Base { get; init; }

    /// <summary>backing-file: the string written into the header of the overlay above the top.</summary>
    public string? BackingFile { get; init; }

    /// <summary>The job options (speed, on-error, auto-finalize, auto-dismiss).</summary>
    public JobOptions Job { get; init; } = new();
}
