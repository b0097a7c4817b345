namespace Qmp.Block.Qcow2;

/// <summary>
/// The result of a consistency check, with the members of <c>qemu-img check --output=json</c>. After a
/// repair, <see cref="Corruptions"/> and <see cref="Leaks"/> describe the image as it is afterwards and the
/// <c>*Fixed</c> counts say what was repaired, as qemu-img reports them.
/// </summary>
public sealed record Qcow2CheckResult
{
    /// <summary>The image's file name.</summary>
    public required string Filename { get; init; }

    /// <summary>Always "qcow2".</summary>
    public string Format { get; init; } = "qcow2";

    /// <summary>Errors that kept the check from completing (I/O errors reading metadata).</summary>
    public int CheckErrors { get; init; }

    /// <summary>Clusters referenced more often than their refcount says, and other metadata errors.</summary>
    public int Corruptions { get; init; }

    /// <summary>Clusters whose refcount exceeds their references.</summary>
    public int Leaks { get; init; }

    /// <summary>Corruptions the repair fixed.</summary>
    public int CorruptionsFixed { get; init; }

    /// <summary>Leaks the repair fixed.</summary>
    public int LeaksFixed { get; init; }

    /// <summary>Guest clusters allocated in the active L2 tables (data, preallocated zero and compressed).</summary>
    public long AllocatedClusters { get; init; }

    /// <summary>Guest clusters of the virtual disk.</summary>
    public long TotalClusters { get; init; }

    /// <summary>Allocated clusters not contiguous with their predecessor in the same L2 table (compressed ones always count).</summary>
    public long FragmentedClusters { get; init; }

    /// <summary>Compressed guest clusters.</summary>
    public long CompressedClusters { get; init; }

    /// <summary>The end of the highest cluster in use.</summary>
    public long ImageEndOffset { get; init; }

    /// <summary>The lines qemu-img would print on stderr (ERROR…, Leaked cluster…, Repairing…).</summary>
    public IReadOnlyList<string> Messages { get; init; } = [];

    /// <summary>qemu-img check's exit code for this result: 0 clean, 1 check failed, 2 corruptions, 3 leaks only.</summary>
    public int ExitCode => CheckErrors > 0 ? 1 : Corruptions > 0 ? 2 : Leaks > 0 ? 3 : 0;
}
