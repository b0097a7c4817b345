namespace Qmp.Block.Jobs;

/// <summary>blockdev-mirror's arguments, as the block layer takes them.</summary>
public sealed record MirrorJobOptions
{
    /// <summary>job-id; null: the drive's name.</summary>
    public string? JobId { get; init; }

    /// <summary>The drive or node name of the source (a root node).</summary>
    public required string Device { get; init; }

    /// <summary>The node name (or drive name) of the target.</summary>
    public required string Target { get; init; }

    /// <summary>replaces: the node the target takes the place of on completion (default: the source).</summary>
    public string? Replaces { get; init; }

    /// <summary>sync: what is copied before the job goes ready.</summary>
    public MirrorSyncMode Sync { get; init; } = MirrorSyncMode.Full;

    /// <summary>Whether the user asked for sync incremental or bitmap, which QEMU 7.2's mirror refuses (named here).</summary>
    public string? UnsupportedSync { get; init; }

    /// <summary>granularity of the dirty bitmap in bytes; 0: the target's cluster size clamped to 4 KiB..64 KiB.</summary>
    public long Granularity { get; init; }

    /// <summary>buf-size: bytes in flight from source to target; 0: 16 MiB.</summary>
    public long BufSize { get; init; }

    /// <summary>on-source-error.</summary>
    public JobOnError OnSourceError { get; init; }

    /// <summary>on-target-error.</summary>
    public JobOnError OnTargetError { get; init; }

    /// <summary>filter-node-name (qmpd inserts no mirror_top filter, so it is refused).</summary>
    public string? FilterNodeName { get; init; }

    /// <summary>copy-mode.</summary>
    public MirrorCopyMode CopyMode { get; init; }

    /// <summary>unmap (drive-mirror): zeroes in the source may deallocate the target.</summary>
    public bool Unmap { get; init; } = true;

    /// <summary>What happens to the target's backing link (drive-mirror sets it).</summary>
    public MirrorBackingMode BackingMode { get; init; }

    /// <summary>The job options (speed, auto-finalize, auto-dismiss; on-error is unused: see the two policies).</summary>
    public JobOptions Job { get; init; } = new();
}
