namespace Qmp.Block.Qcow2;

/// <summary>Options of <c>qemu-img create -f qcow2</c> / blockdev-create (QEMU's BlockdevCreateOptionsQcow2).</summary>
public sealed record Qcow2CreateOptions
{
    /// <summary>The virtual size in bytes (rounded up to 512); required — for an overlay, pass the backing image's size.</summary>
    public long Size { get; init; }

    /// <summary>The cluster size: a power of two from 512 to 2 MiB.</summary>
    public int ClusterSize { get; init; } = 65536;

    /// <summary>"0.10" (version 2) or "1.1" (version 3, also accepted as "v3"; "v2" for 0.10).</summary>
    public string Compat { get; init; } = "1.1";

    /// <summary>Sets the lazy refcounts compatible bit (compat 1.1 only).</summary>
    public bool LazyRefcounts { get; init; }

    /// <summary>Refcount width in bits: a power of two up to 64 (only 16 with compat 0.10).</summary>
    public int RefcountBits { get; init; } = 16;

    /// <summary>The backing file name stored in the header, or null.</summary>
    public string? BackingFile { get; init; }

    /// <summary>The backing format stored in the backing format extension, or null.</summary>
    public string? BackingFormat { get; init; }

    /// <summary>
    /// Whether the file is emptied first, as qemu-img create's file creation does; blockdev-create formats the
    /// node as it is, so bytes past the new image stay (QEMU's qcow2_co_create).
    /// </summary>
    public bool TruncateFile { get; init; } = true;

    /// <summary>"off" or "metadata" (L2 tables and data clusters allocated up front).</summary>
    public string Preallocation { get; init; } = "off";
}
