namespace Qmp.Migration;

/// <summary>The capabilities qmpd implements (QEMU's MigrationCapability names); all default off.</summary>
public enum MigrationCapability
{
    /// <summary>Throttle the vCPU when the dirty rate keeps migration from converging.</summary>
    AutoConverge,

    /// <summary>Emit MIGRATION and MIGRATION_PASS.</summary>
    Events,

    /// <summary>Stop in pre-switchover until migrate-continue.</summary>
    PauseBeforeSwitchover,

    /// <summary>Destination: leave block nodes inactive until cont when the guest does not start by itself.</summary>
    LateBlockActivate,

    /// <summary>Send the source's uuid; the destination refuses another.</summary>
    ValidateUuid,
}
