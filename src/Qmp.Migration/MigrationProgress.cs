namespace Qmp.Migration;

/// <summary>What query-migrate shows: QEMU's MigrationInfo, members null when QEMU leaves them out.</summary>
public sealed record MigrationProgress
{
    /// <summary>Null before any migration (query-migrate returns <c>{}</c>).</summary>
    public MigrationStatus? Status { get; init; }

    /// <summary>RAM statistics (source, while active and after).</summary>
    public MigrationRamStats? Ram { get; init; }

    /// <summary>Milliseconds since migrate, or the whole migration once it ended.</summary>
    public long? TotalTime { get; init; }

    /// <summary>Milliseconds before the first pass.</summary>
    public long? SetupTime { get; init; }

    /// <summary>Milliseconds the guest was stopped (completed only).</summary>
    public long? Downtime { get; init; }

    /// <summary>Estimated downtime if the switch happened now (active only).</summary>
    public long? ExpectedDowntime { get; init; }

    /// <summary>auto-converge's current throttle, once it throttles.</summary>
    public int? CpuThrottlePercentage { get; init; }

    /// <summary>Why it failed.</summary>
    public string? ErrorDesc { get; init; }

    /// <summary>Destination: the address it listens on.</summary>
    public IReadOnlyList<Channels.SocketMigrationAddress>? SocketAddresses { get; init; }
}
