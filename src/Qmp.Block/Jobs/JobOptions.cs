namespace Qmp.Block.Jobs;

/// <summary>The options every job takes.</summary>
public sealed record JobOptions
{
    /// <summary>auto-finalize (default true).</summary>
    public bool AutoFinalize { get; init; } = true;

    /// <summary>auto-dismiss (default true).</summary>
    public bool AutoDismiss { get; init; } = true;

    /// <summary>speed in bytes per second, 0 = unlimited.</summary>
    public long Speed { get; init; }

    /// <summary>on-error (default report).</summary>
    public JobOnError OnError { get; init; }
}
