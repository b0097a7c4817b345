namespace Qmp.Block;

/// <summary>
/// What a node says about its image (QEMU's ImageInfo: the <c>image</c> member of
/// query-named-block-nodes and the body of <c>qemu-img info</c>).
/// </summary>
public sealed record BlockImageInfo
{
    /// <summary>The image's file name (a JSON description when the node has no plain one).</summary>
    public required string Filename { get; init; }

    /// <summary>The format driver: "file", "raw" or "qcow2".</summary>
    public required string Format { get; init; }

    /// <summary>The guest-visible size in bytes.</summary>
    public required long VirtualSize { get; init; }

    /// <summary>Host bytes allocated to the image file, when known.</summary>
    public long? ActualSize { get; init; }

    /// <summary>The cluster size of a qcow2 image.</summary>
    public int? ClusterSize { get; init; }

    /// <summary>Whether the image's dirty bit is set (qcow2 with lazy refcounts).</summary>
    public bool? DirtyFlag { get; init; }

    /// <summary>The backing file name as stored in the image.</summary>
    public string? BackingFilename { get; init; }

    /// <summary>The backing file name resolved against the image's directory.</summary>
    public string? FullBackingFilename { get; init; }

    /// <summary>The backing format as stored in the image.</summary>
    public string? BackingFilenameFormat { get; init; }

    /// <summary>The qcow2 specifics (<c>format-specific</c>), for qcow2 images.</summary>
    public Qcow2ImageInfo? Qcow2 { get; init; }

    /// <summary>The internal snapshots recorded in the image.</summary>
    public IReadOnlyList<BlockSnapshotInfo> Snapshots { get; init; } = [];

    /// <summary>The backing image's own description, for chains.</summary>
    public BlockImageInfo? BackingImage { get; init; }
}
