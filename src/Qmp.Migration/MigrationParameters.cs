namespace Qmp.Migration;

/// <summary>The parameters qmpd implements, with QEMU 7.2's defaults. Immutable; migrate-set-parameters swaps the whole record.</summary>
public sealed record MigrationParameters
{
    /// <summary>Bytes per second the precopy phase may use (128 MiB/s).</summary>
    public ulong MaxBandwidth { get; init; } = 128UL << 20;

    /// <summary>Milliseconds the guest may be stopped at switchover (300).</summary>
    public ulong DowntimeLimit { get; init; } = 300;

    /// <summary>Bytes per second assumed for the switchover estimate; 0 uses the measured bandwidth.</summary>
    public ulong AvailSwitchoverBandwidth { get; init; }

    /// <summary>auto-converge's first throttle, in percent (20).</summary>
    public byte CpuThrottleInitial { get; init; } = 20;

    /// <summary>auto-converge's step, in percent (10).</summary>
    public byte CpuThrottleIncrement { get; init; } = 10;

    /// <summary>auto-converge's ceiling, in percent (99).</summary>
    public byte MaxCpuThrottle { get; init; } = 99;
}
