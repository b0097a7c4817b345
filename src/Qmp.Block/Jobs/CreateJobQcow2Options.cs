using Qmp.Block.Options;

namespace Qmp.Block.Jobs;

/// <summary>blockdev-create for the <c>qcow2</c> driver (QEMU's BlockdevCreateOptionsQcow2, without encryption and data files).</summary>
public sealed record CreateJobQcow2Options : CreateJobOptions
{
    /// <summary>The node to format: an existing node's name, or a file node defined inline.</summary>
    public required BlockdevRef File { get; init; }

    /// <summary>version: 2 or 3 (default 3).</summary>
    public int Version { get; init; } = 3;

    /// <summary>backing-file: the name written into the header.</summary>
    public string? BackingFile { get; init; }

    /// <summary>backing-fmt: the backing file's driver name.</summary>
    public string? BackingFormat { get; init; }

    /// <summary>cluster-size in bytes (default 64 KiB).</summary>
    public ulong ClusterSize { get; init; } = 65536;

    /// <summary>lazy-refcounts.</summary>
    public bool LazyRefcounts { get; init; }

    /// <summary>refcount-bits (default 16).</summary>
    public long RefcountBits { get; init; } = 16;
}
