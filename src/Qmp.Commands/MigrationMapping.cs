using Domain = Qmp.Migration;

namespace Qmp.Commands;

/// <summary>Maps the migration engine's enums and records to the schema's, one case each.</summary>
internal static class MigrationMapping
{
    public static Schema.MigrationStatus ToSchema(this Domain.MigrationStatus status) => status switch
    {
        Domain.MigrationStatus.None => Schema.MigrationStatus.None,
        Domain.MigrationStatus.Setup => Schema.MigrationStatus.Setup,
        Domain.MigrationStatus.Cancelling => Schema.MigrationStatus.Cancelling,
        Domain.MigrationStatus.Cancelled => Schema.MigrationStatus.Cancelled,
        Domain.MigrationStatus.Active => Schema.MigrationStatus.Active,
        Domain.MigrationStatus.Completed => Schema.MigrationStatus.Completed,
        Domain.MigrationStatus.Failed => Schema.MigrationStatus.Failed,
        Domain.MigrationStatus.PreSwitchover => Schema.MigrationStatus.PreSwitchover,
        Domain.MigrationStatus.Device => Schema.MigrationStatus.Device,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>The engine's status for a schema status; null for states qmpd never enters (postcopy, colo, wait-unplug).</summary>
    public static Domain.MigrationStatus? ToDomain(this Schema.MigrationStatus status) => status switch
    {
        Schema.MigrationStatus.None => Domain.MigrationStatus.None,
        Schema.MigrationStatus.Setup => Domain.MigrationStatus.Setup,
        Schema.MigrationStatus.Cancelling => Domain.MigrationStatus.Cancelling,
        Schema.MigrationStatus.Cancelled => Domain.MigrationStatus.Cancelled,
        Schema.MigrationStatus.Active => Domain.MigrationStatus.Active,
        Schema.MigrationStatus.Completed => Domain.MigrationStatus.Completed,
        Schema.MigrationStatus.Failed => Domain.MigrationStatus.Failed,
        Schema.MigrationStatus.PreSwitchover => Domain.MigrationStatus.PreSwitchover,
        Schema.MigrationStatus.Device => Domain.MigrationStatus.Device,
        _ => null,
    };

    public static Schema.MigrationCapability ToSchema(this Domain.MigrationCapability capability) => capability switch
    {
        Domain.MigrationCapability.AutoConverge => Schema.MigrationCapability.AutoConverge,
        Domain.MigrationCapability.Events => Schema.MigrationCapability.Events,
        Domain.MigrationCapability.PauseBeforeSwitchover => Schema.MigrationCapability.PauseBeforeSwitchover,
        Domain.MigrationCapability.LateBlockActivate => Schema.MigrationCapability.LateBlockActivate,
        Domain.MigrationCapability.ValidateUuid => Schema.MigrationCapability.ValidateUuid,
        _ => throw new ArgumentOutOfRangeException(nameof(capability), capability, null),
    };

    public static Domain.MigrationCapability ToDomain(this Schema.MigrationCapability capability) => capability switch
    {
        Schema.MigrationCapability.AutoConverge => Domain.MigrationCapability.AutoConverge,
        Schema.MigrationCapability.Events => Domain.MigrationCapability.Events,
        Schema.MigrationCapability.PauseBeforeSwitchover => Domain.MigrationCapability.PauseBeforeSwitchover,
        Schema.MigrationCapability.LateBlockActivate => Domain.MigrationCapability.LateBlockActivate,
        Schema.MigrationCapability.ValidateUuid => Domain.MigrationCapability.ValidateUuid,
        _ => throw new ArgumentOutOfRangeException(nameof(capability), capability, null),
    };

    public static Schema.MigrationInfo ToSchema(this Domain.MigrationProgress progress) => new()
    {
        Status = progress.Status?.ToSchema(),
        Ram = progress.Ram is { } ram ? new Schema.MigrationStats
        {
            Transferred = ram.Transferred,
            Remaining = ram.Remaining,
            Total = ram.Total,
            Duplicate = ram.Duplicate,
            Skipped = 0,
            Normal = ram.Normal,
            NormalBytes = ram.NormalBytes,
            DirtyPagesRate = ram.DirtyPagesRate,
            Mbps = ram.Mbps,
            DirtySyncCount = ram.DirtySyncCount,
            PostcopyRequests = 0,
            PageSize = 4096,
            MultifdBytes = 0,
            PagesPerSecond = (ulong)ram.PagesPerSecond,
            PrecopyBytes = (ulong)ram.PrecopyBytes,
            DowntimeBytes = (ulong)ram.DowntimeBytes,
            PostcopyBytes = 0,
            DirtySyncMissedZeroCopy = 0,
        } : null,
        TotalTime = progress.TotalTime,
        ExpectedDowntime = progress.ExpectedDowntime,
        Downtime = progress.Downtime,
        SetupTime = progress.SetupTime,
        CpuThrottlePercentage = progress.CpuThrottlePercentage,
        ErrorDesc = progress.ErrorDesc,
        SocketAddress = progress.SocketAddresses?.Select(a => a.Path is { } path
            ? new Schema.SocketAddress { Type = Schema.SocketAddressType.Unix, Unix = new Schema.UnixSocketAddress { Path = path } }
            : new Schema.SocketAddress { Type = Schema.SocketAddressType.Inet, Inet = new Schema.InetSocketAddress { Host = a.Host ?? "", Port = a.Port ?? "" } }).ToList(),
    };
}
