namespace Qmp.Migration;

/// <summary>QEMU's MigrationStats, the members qmpd measures.</summary>
public sealed record MigrationRamStats
{
    /// <summary>Bytes written to the channel.</summary>
    public long Transferred { get; init; }

    /// <summary>Bytes of RAM still to send.</summary>
    public long Remaining { get; init; }

    /// <summary>Bytes of RAM.</summary>
    public long Total { get; init; }

    /// <summary>Zero pages sent as a header only.</summary>
    public long Duplicate { get; init; }

    /// <summary>Pages sent with data.</summary>
    public long Normal { get; init; }

    /// <summary>Bytes of page data sent.</summary>
    public long NormalBytes { get; init; }

    /// <summary>Pages dirtied per second in the last pass.</summary>
    public long DirtyPagesRate { get; init; }

    /// <summary>Throughput of the last pass in megabits per second.</summary>
    public double Mbps { get; init; }

    /// <summary>Dirty bitmap syncs.</summary>
    public long DirtySyncCount { get; init; }

    /// <summary>Pages sent per second in the last pass.</summary>
    public long PagesPerSecond { get; init; }

    /// <summary>Bytes sent while the guest ran.</summary>
    public long PrecopyBytes { get; init; }

    /// <summary>Bytes sent while the guest was stopped.</summary>
    public long DowntimeBytes { get; init; }
}
