using System.Numerics;
using Qmp.Block.File;
using Qmp.Block.Options;
using Qmp.Block.Qcow2;

namespace Qmp.Block.Jobs;

public sealed partial class CreateJob
{
    // QEMU's qcow2_co_create: find the node, check the options in QEMU's order, then format it.
    private async Task CreateQcow2Async(CreateJobQcow2Options options, CancellationToken cancellationToken)
    {
        var (file, owned) = OpenFile(options.File);
        try
        {
            var create = CheckQcow2(options);
            if (file.ReadOnly)
                throw new BlockException(BlockError.Permission, "Block node is read-only");
            // A format node over it does not let anyone else write (QEMU's permission conflict).
            if (file.ParentLinks.FirstOrDefault() is { } parent)
                throw new BlockException(BlockError.Permission, $"Conflicts with use by {parent.Parent.NodeName} as '{parent.Role}', which does not allow 'write' on {file.NodeName}");
            Use(file);
            try
            {
                Checked();
                await Qcow2Node.CreateAsync(file, create, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Release(file);
            }
        }
        finally
        {
            if (owned)
                await file.CloseAsync().ConfigureAwait(false);
        }
    }

    // The node named (QEMU's bdrv_open_blockdev_ref), or a file node opened from an inline definition for the job only.
    private (BlockNode Node, bool Owned) OpenFile(BlockdevRef reference)
    {
        if (reference.Reference is { } name)
        {
            var node = _graph.FindNode(name) ?? _graph.FindBackend(name)?.Root
                ?? throw new BlockGraphException($"Cannot find device='{name}' nor node-name='{name}'");
            return (node, false);
        }
        if (reference.Definition is FileBlockdevOptions file)
            return (FileNode.Open(file.Filename, file.ReadOnly, file.CacheDirect, file.Locking != "off", file.CacheNoFlush), true);
        throw new BlockGraphException("blockdev-create's 'file' must name a node or define a 'file' node");
    }

    private static Qcow2CreateOptions CheckQcow2(CreateJobQcow2Options options)
    {
        if (options.Size % 512 != 0)
            throw new BlockException(BlockError.Invalid, "Image size must be a multiple of 512 bytes");
        if (options.ClusterSize is < 512 or > 2 * 1024 * 1024 || !BitOperations.IsPow2(options.ClusterSize))
            throw new BlockException(BlockError.Invalid, "Cluster size must be a power of two between 512 and 2048k");
        if (options.BackingFile is not null && options.Preallocation != "off")
            throw new BlockException(BlockError.Invalid, "Backing file and preallocation can only be used at the same time if extended_l2 is on");
        if (options.BackingFormat is not null && options.BackingFile is null)
            throw new BlockException(BlockError.Invalid, "Backing format cannot be used without backing file");
        if (options.Version < 3 && options.LazyRefcounts)
            throw new BlockException(BlockError.Invalid, "Lazy refcounts only supported with compatibility level 1.1 and above (use version=v3 or greater)");
        if (options.RefcountBits is < 1 or > 64 || !BitOperations.IsPow2(options.RefcountBits))
            throw new BlockException(BlockError.Invalid, "Refcount width must be a power of two and may not exceed 64 bits");
        if (options.Version < 3 && options.RefcountBits != 16)
            throw new BlockException(BlockError.Invalid, "Different refcount widths than 16 bits require compatibility level 1.1 or above (use version=v3 or greater)");
        // qmpd preallocates qcow2 metadata only; falloc and full would also need the data clusters written out.
        if (options.Preallocation is not ("off" or "metadata"))
            throw new BlockException(BlockError.NotSupported, $"Unsupported preallocation mode for qcow2 in qmpd: {options.Preallocation} (use off or metadata)");
        if (options.Size > long.MaxValue)
            throw new BlockException(BlockError.Invalid, "Image size is too large");
        return new Qcow2CreateOptions
        {
            Size = (long)options.Size,
            ClusterSize = (int)options.ClusterSize,
            Compat = options.Version < 3 ? "0.10" : "1.1",
            LazyRefcounts = options.LazyRefcounts,
            RefcountBits = (int)options.RefcountBits,
            BackingFile = options.BackingFile,
            BackingFormat = options.BackingFormat,
            Preallocation = options.Preallocation,
            TruncateFile = false,
        };
    }
}
