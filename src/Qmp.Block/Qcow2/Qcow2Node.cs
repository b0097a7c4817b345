namespace Qmp.Block.Qcow2;

/// <summary>
/// The <c>qcow2</c> format driver (v2 and v3 images, as QEMU 7.2 writes them): two-level cluster mapping
/// with copy-on-write from a backing file, zero and compressed clusters, refcounted host clusters shared
/// with internal snapshots, lazy refcounts and the dirty/corrupt bits, image creation and
/// <c>qemu-img check</c>-compatible checking and repair.
/// </summary>
/// <remarks>
/// Reads and overwrites of clusters this image owns alone run in parallel under the read side of a
/// metadata lock. Writes that need new clusters also run under the read side: they allocate and later link
/// their L2 entries under a separate allocation lock and write their data in between, unlocked, waiting only
/// for earlier writes to the same guest clusters (Qcow2Node.Allocate.cs). Whatever copies or frees clusters
/// still in use (copy-on-write of shared or compressed clusters, zeroing, discard, resize) takes the write side. Metadata is written through, ordered so a process killed at any point leaves
/// at worst leaked clusters: a refcount is raised before anything points at its cluster, data is written
/// before the L2 entry that makes it visible, and a refcount drops only after the last pointer is gone.
/// </remarks>
public sealed partial class Qcow2Node : BlockNode
{
    private readonly BlockNode _file;
    private readonly Qcow2OpenOptions _options;
    private readonly AsyncReaderWriterLock _lock = new();
    private readonly HashSet<int> _dirtyRefBlocks = [];
    private Qcow2L2Cache _l2Cache = new(0, 1 << Qcow2Format.DefaultClusterBits);
    private Qcow2Header _header = new();
    private int _clusterBits;
    private int _clusterSize;
    private int _l2Bits;
    private int _l2Entries;
    private int _refcountOrder;
    private int _refBlockBits;
    private long _size;
    private ulong[] _l1 = [];
    private ulong[] _refTable = [];
    private byte[]?[] _refBlocks = [];
    private long _freeHint;
    private List<Qcow2Snapshot> _snapshots = [];
    private long _snapshotTableLength;
    private bool _lazyRefcounts;
    private bool _dirtyBySelf;
    private byte[]? _zeroCluster;

    private Qcow2Node(BlockNode file, bool readOnly, Qcow2OpenOptions options)
        : base(readOnly)
    {
        _file = file;
        _options = options;
    }

    /// <inheritdoc/>
    public override string DriverName => "qcow2";

    /// <inheritdoc/>
    public override bool SupportsBacking => true;

    /// <inheritdoc/>
    public override long Length => Volatile.Read(ref _size);

    /// <summary>The image's cluster size in bytes.</summary>
    public int ClusterSize => _clusterSize;

    /// <summary>The backing file name stored in the header (as written, possibly relative), or null.</summary>
    public string? BackingFileName => _header.BackingFileName;

    /// <summary>The backing format from the backing format header extension, or null.</summary>
    public string? BackingFormat => _header.BackingFormat;

    /// <summary>The backing file name resolved against the image's directory, as QEMU's full-backing-filename.</summary>
    public string? FullBackingFileName => ResolveBackingPath(Filename, _header.BackingFileName);

    /// <summary>The qcow2 version (2 for compat 0.10, 3 for compat 1.1).</summary>
    public int Version => _header.Version;

    /// <summary>
    /// Opens a qcow2 image on <paramref name="file"/> and attaches it as this node's "file" child. The
    /// backing file is not opened: the caller opens <see cref="BackingFileName"/> and attaches it.
    /// </summary>
    /// <exception cref="BlockException">The image is not qcow2, is damaged or uses features this driver lacks (QEMU's texts).</exception>
    public static async Task<Qcow2Node> OpenAsync(BlockNode file, bool readOnly, Qcow2OpenOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        if (!readOnly && file.ReadOnly)
            throw new BlockException(BlockError.Permission, $"Could not open '{file.Filename}' read-write: the file node is read-only");
        var node = new Qcow2Node(file, readOnly, options);
        await node.LoadMetadataAsync(cancellationToken).ConfigureAwait(false);
        if (options.Inactive)
            node.SetActivation(BlockActivation.Inactive);
        else if (!readOnly)
            await node.PrepareWritableAsync(cancellationToken).ConfigureAwait(false);
        node.AddChild("file", file);
        return node;
    }

    /// <summary>Attaches (or, with null, detaches) the backing node unallocated clusters read from.</summary>
    internal void AttachBacking(BlockNode? backing) => ReplaceChild("backing", backing);

    /// <inheritdoc/>
    public override BlockImageInfo DescribeImage()
    {
        var header = _header;
        var snapshots = new List<BlockSnapshotInfo>(_snapshots.Count);
        foreach (var snapshot in _snapshots)
            snapshots.Add(snapshot.ToInfo());
        return new BlockImageInfo
        {
            Filename = Filename,
            Format = DriverName,
            VirtualSize = Length,
            ActualSize = _file.DescribeImage().ActualSize,
            ClusterSize = _clusterSize,
            DirtyFlag = (header.IncompatibleFeatures & Qcow2Format.IncompatDirty) != 0,
            BackingFilename = header.BackingFileName,
            FullBackingFilename = ResolveBackingPath(Filename, header.BackingFileName),
            BackingFilenameFormat = header.BackingFileName is null ? null : header.BackingFormat,
            Qcow2 = new Qcow2ImageInfo(
                header.Version == 2 ? "0.10" : "1.1",
                (header.CompatibleFeatures & Qcow2Format.CompatLazyRefcounts) != 0,
                (header.IncompatibleFeatures & Qcow2Format.IncompatCorrupt) != 0,
                1 << header.RefcountOrder,
                ExtendedL2: false,
                CompressionType: "zlib"),
            Snapshots = snapshots,
            BackingImage = Backing?.DescribeImage(),
        };
    }

    // QEMU's path_combine: relative names are relative to the image's directory; protocol names stay as they are.
    private static string? ResolveBackingPath(string imagePath, string? backing)
    {
        if (backing is null)
            return null;
        if (backing.Length == 0 || Path.IsPathRooted(backing) || backing.StartsWith("json:", StringComparison.Ordinal))
            return backing;
        var slash = imagePath.LastIndexOf('/');
        return slash < 0 ? backing : string.Concat(imagePath.AsSpan(0, slash + 1), backing);
    }

    private long ClusterMask => _clusterSize - 1;

    private int L1Index(long guest) => (int)(guest >> (_clusterBits + _l2Bits));

    private int L2Index(long guest) => (int)((guest >> _clusterBits) & (_l2Entries - 1));

    /// <summary>The guest offset where L1 entry <paramref name="l1Index"/>'s range starts.</summary>
    private long L1Start(int l1Index) => (long)l1Index << (_clusterBits + _l2Bits);

    private long SizeToClusters(long bytes) => (bytes + ClusterMask) >> _clusterBits;

    /// <summary>A read-only cluster of zeroes, for zero writes.</summary>
    private byte[] ZeroCluster => _zeroCluster ??= new byte[_clusterSize];
}
