namespace Qmp.Block.Options;

/// <summary>
/// The options of one node to open (QEMU's BlockdevOptions, the argument of blockdev-add and -blockdev):
/// the members every driver shares; a subclass per driver adds its own.
/// </summary>
public abstract record BlockdevOptions
{
    /// <summary>The driver's name: "file", "raw", "qcow2".</summary>
    public abstract string Driver { get; }

    /// <summary>The node's name; required for the root of blockdev-add, generated for children when absent.</summary>
    public string? NodeName { get; init; }

    /// <summary>Open the node read-only.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>auto-read-only: fall back to read-only when the image cannot be opened read-write.</summary>
    public bool AutoReadOnly { get; init; }

    /// <summary>force-share: let other processes have every permission (requires read-only).</summary>
    public bool ForceShare { get; init; }

    /// <summary>cache.direct: bypass the host page cache (O_DIRECT).</summary>
    public bool CacheDirect { get; init; }

    /// <summary>cache.no-flush: ignore flush requests (unsafe).</summary>
    public bool CacheNoFlush { get; init; }

    /// <summary>discard: "ignore" (default) drops guest discards, "unmap" passes them down.</summary>
    public bool DiscardUnmap { get; init; }

    /// <summary>detect-zeroes.</summary>
    public DetectZeroes DetectZeroes { get; init; }

    /// <summary>active: false opens the node inactive (migration destinations).</summary>
    public bool Active { get; init; } = true;

    /// <summary>The options a child inherits from its parent when it does not set them (QEMU's inheritance of cache and read-only).</summary>
    internal BlockdevOptions InheritInto(BlockdevOptions child) => child with
    {
        CacheDirect = child.CacheDirect || CacheDirect,
        CacheNoFlush = child.CacheNoFlush || CacheNoFlush,
        ReadOnly = child.ReadOnly || ReadOnly,
        AutoReadOnly = child.AutoReadOnly || AutoReadOnly,
        ForceShare = child.ForceShare || ForceShare,
        DiscardUnmap = child.DiscardUnmap || DiscardUnmap,
        Active = child.Active && Active,
    };
}
