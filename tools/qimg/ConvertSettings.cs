namespace Qmp.Img;

/// <summary>How <see cref="ConvertJob"/> copies: its workers, write order and sparse handling.</summary>
internal sealed record ConvertSettings
{
    /// <summary>-m: requests in flight.</summary>
    public int Workers { get; init; } = 8;

    /// <summary>Not -W: writes are issued in target order, one at a time.</summary>
    public bool InOrder { get; init; } = true;

    /// <summary>-S: the shortest zero run (in 512-byte sectors) left sparse; 0 writes everything.</summary>
    public int MinSparseSectors { get; init; } = 8;

    /// <summary>The target's zero-write alignment in sectors (qcow2: a cluster), at least <see cref="MinSparseSectors"/>.</summary>
    public int AlignmentSectors { get; init; } = 8;

    /// <summary>The target reads as zeroes already (a new image), so zero runs need no writes.</summary>
    public bool TargetZeroInitialized { get; init; }

    /// <summary>-p.</summary>
    public bool ShowProgress { get; init; }

    /// <summary>Whether zero runs are detected at all (-S not 0).</summary>
    public bool DetectZeroes => MinSparseSectors > 0;
}
