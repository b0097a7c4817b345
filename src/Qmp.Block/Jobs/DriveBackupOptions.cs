namespace Qmp.Block.Jobs;

/// <summary>drive-backup's arguments: blockdev-backup's, with a target image file qmpd creates (or opens) and closes afterwards.</summary>
public sealed record DriveBackupOptions
{
    /// <summary>The backup's arguments; <see cref="BackupJobOptions.Target"/> is the target's file name.</summary>
    public required BackupJobOptions Backup { get; init; }

    /// <summary>format: the target's format; null: the source's (mode absolute-paths) or probed (mode existing).</summary>
    public string? Format { get; init; }

    /// <summary>mode existing: open the file as it is; else create it (absolute-paths, the default).</summary>
    public bool Existing { get; init; }
}
