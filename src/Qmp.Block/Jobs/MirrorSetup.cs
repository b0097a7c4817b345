namespace Qmp.Block.Jobs;

/// <summary>A checked mirror: what <see cref="MirrorJob"/> is built from (by blockdev-mirror, drive-mirror or active commit).</summary>
/// <param name="Source">The node whose writes are mirrored.</param>
/// <param name="Target">The node copied to.</param>
internal sealed record MirrorSetup(BlockNode Source, BlockNode Target)
{
    /// <summary>Sync top: the source's backing (not copied); active commit: the base (the target itself).</summary>
    public BlockNode? Base { get; init; }

    public MirrorSyncMode Sync { get; init; }

    public string? Replaces { get; init; }

    public MirrorBackingMode BackingMode { get; init; }

    public MirrorCopyMode CopyMode { get; init; }

    public JobOnError OnSourceError { get; init; }

    public JobOnError OnTargetError { get; init; }

    public bool Unmap { get; init; } = true;

    public long BufSize { get; init; }

    public long Granularity { get; init; }

    /// <summary>Active commit: copies what the chain holds above the base into it; the job's type is "commit".</summary>
    public bool Commit { get; init; }

    /// <summary>Active commit: the base was read-only and goes back to that unless the device pivots onto it.</summary>
    public bool BaseWasReadOnly { get; init; }

    /// <summary>drive-mirror: the job opened the target and closes it at the end unless it was pivoted to.</summary>
    public bool CloseTargetAtEnd { get; init; }
}
