namespace Qmp.Bench;

/// <summary>One completed migration, as the source's query-migrate reported it.</summary>
/// <param name="TotalMs">query-migrate's total-time.</param>
/// <param name="DowntimeMs">query-migrate's downtime (the source's own measure).</param>
/// <param name="StopToResumeMs">The source's STOP event to the destination's RESUME event, by their timestamps: how long
/// the guest did not run anywhere; NaN when an event did not come.</param>
/// <param name="Transferred">ram.transferred bytes.</param>
/// <param name="Syncs">ram.dirty-sync-count.</param>
/// <param name="Log">Both emulators' output, for --log.</param>
internal sealed record MigrationResult(double TotalMs, double DowntimeMs, double StopToResumeMs, long Transferred, long Syncs, string Log);
