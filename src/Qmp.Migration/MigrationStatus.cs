namespace Qmp.Migration;

/// <summary>The migration states qmpd uses, QEMU's MigrationStatus names.</summary>
public enum MigrationStatus
{
    /// <summary>No migration has ever happened.</summary>
    None,

    /// <summary>Connecting, writing the configuration, first dirty sync.</summary>
    Setup,

    /// <summary>migrate_cancel was asked; the migration is winding down.</summary>
    Cancelling,

    /// <summary>Cancelled; the source runs as before.</summary>
    Cancelled,

    /// <summary>Sending RAM (source) or loading the stream (destination).</summary>
    Active,

    /// <summary>Finished.</summary>
    Completed,

    /// <summary>Failed; error-desc says why.</summary>
    Failed,

    /// <summary>pause-before-switchover: stopped, waiting for migrate-continue.</summary>
    PreSwitchover,

    /// <summary>pause-before-switchover: serialising devices after migrate-continue.</summary>
    Device,
}
