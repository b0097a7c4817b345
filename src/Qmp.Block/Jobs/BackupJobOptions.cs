namespace Qmp.Block.Jobs;

/// <summary>blockdev-backup's arguments as the block layer takes them (drive-backup opens its target first).</summary>
public sealed record BackupJobOptions
{
    /// <summary>job-id; null: the drive's name.</summary>
    public string? JobId { get; init; }

    /// <summary>The drive or node name of the source.</summary>
    public required string Device { get; init; }

    /// <summary>The target node's name (blockdev-backup).</summary>
    public required string Target { get; init; }

    /// <summary>What to copy.</summary>
    public BackupSyncMode Sync { get; init; }

    /// <summary>on-source-error: the policy for reads of the source (default report).</summary>
    public JobOnError OnSourceError { get; init; }

    /// <summary>on-target-error: the policy for writes to the target (default report).</summary>
    public JobOnError OnTargetError { get; init; }

    /// <summary>compress: write the copy compressed (the target's format must support it, as qcow2 does).</summary>
    public bool Compress { get; init; }

    /// <summary>The job options (speed, auto-finalize, auto-dismiss; on-error is unused).</summary>
    public JobOptions Job { get; init; } = new();
}
