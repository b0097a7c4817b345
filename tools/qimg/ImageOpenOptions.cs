namespace Qmp.Img;

/// <summary>How qemu-img opens an image for a command (its BDRV_O_* flags and cache mode).</summary>
internal sealed record ImageOpenOptions
{
    /// <summary>-f: the format; null probes it (qcow2 magic, else raw).</summary>
    public string? Format { get; init; }

    /// <summary>Open read-write (BDRV_O_RDWR); otherwise read-only.</summary>
    public bool Writable { get; init; }

    /// <summary>-U / --force-share: do not keep other processes from writing (read-only only).</summary>
    public bool ForceShare { get; init; }

    /// <summary>BDRV_O_NO_BACKING: do not open the backing chain (info does not need it).</summary>
    public bool NoBacking { get; init; }

    /// <summary>The cache mode (-t / -T).</summary>
    public CacheMode Cache { get; init; } = CacheMode.Writeback;

    /// <summary>qcow2 only: open for <c>check -r</c> (BDRV_O_CHECK: a corrupt image opens read-write, a dirty one is left for the check).</summary>
    public bool ForRepair { get; init; }
}
