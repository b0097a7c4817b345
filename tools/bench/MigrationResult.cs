namespace Qmp.Bench;

/// <summary>One completed migration, as the source's query-migrate reported it.</summary>
internal sealed record MigrationResult(double TotalMs, double DowntimeMs, long Transferred, long Syncs);
