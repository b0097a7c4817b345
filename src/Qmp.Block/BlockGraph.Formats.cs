using Qmp.Block.File;
using Qmp.Block.Options;
using Qmp.Block.Qcow2;

namespace Qmp.Block;

public sealed partial class BlockGraph
{
    private async Task<BlockNode> OpenFormatAsync(BlockdevOptions options, List<BlockNode> opened, CancellationToken cancellationToken)
    {
        if (options is not Qcow2BlockdevOptions qcow2)
            throw new BlockGraphException($"Unknown driver '{options.Driver}'");
        var file = await ResolveChildAsync(qcow2.File, qcow2, opened, cancellationToken).ConfigureAwait(false);
        var node = await Qcow2Node.OpenAsync(file, qcow2.ReadOnly || file.ReadOnly, new Qcow2OpenOptions
        {
            LazyRefcounts = qcow2.LazyRefcounts,
            PassDiscardRequest = qcow2.DiscardUnmap,
            Inactive = !qcow2.Active,
            OpenForRepair = qcow2.OpenForRepair,
        }, cancellationToken).ConfigureAwait(false);
        return node;
    }

    // The backing file opens after its overlay is registered (QEMU's node order): the one the options
    // give, or the one the image names, read-only, with the overlay's cache options.
    private async Task AttachBackingAsync(Qcow2Node node, Qcow2BlockdevOptions options, List<BlockNode> opened, CancellationToken cancellationToken)
    {
        if (options.NoBacking)
            return;
        if (options.Backing is { } backing)
        {
            var child = backing.Reference is { } name
                ? FindNode(name) ?? throw new BlockGraphException($"Cannot find device='{name}' nor node-name='{name}'")
                : await OpenBackingAsync(backing.Definition!, options, opened, cancellationToken).ConfigureAwait(false);
            node.AttachBacking(child);
            return;
        }
        if (node.FullBackingFileName is not { } path)
            return;
        try
        {
            var format = node.BackingFormat ?? ProbeFormat(path);
            var protocol = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path });
            BlockdevOptions definition = format switch
            {
                "raw" => new RawBlockdevOptions { File = protocol },
                "qcow2" => new Qcow2BlockdevOptions { File = protocol },
                "file" => new FileBlockdevOptions { Filename = path },
                _ => throw new BlockGraphException($"Unknown driver '{format}'"),
            };
            node.AttachBacking(await OpenBackingAsync(definition, options, opened, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is BlockException or BlockGraphException)
        {
            throw new BlockGraphException($"Could not open backing file: {e.Message}");
        }
    }

    private async Task<BlockNode> OpenBackingAsync(BlockdevOptions definition, BlockdevOptions overlay, List<BlockNode> opened, CancellationToken cancellationToken)
    {
        // Backing files are read-only whatever the overlay is (QEMU's bdrv_backing_options).
        var options = overlay.InheritInto(definition) with { ReadOnly = true };
        CheckName(options.NodeName);
        var first = opened.Count;
        var node = await OpenNodeAsync(options, opened, cancellationToken).ConfigureAwait(false);
        // Read-only only for being a backing file of a writable overlay: block-commit may reopen them read-write (QEMU's BDRV_O_ALLOW_RDWR).
        if (!overlay.ReadOnly)
        {
            for (var i = first; i < opened.Count; i++)
                opened[i].AllowWritableReopen = true;
        }
        return node;
    }

    // blockdev-snapshot-sync's new image: qcow2, backed by the node's image and as large.
    private static async Task CreateOverlayImageAsync(string path, BlockNode backing, CancellationToken cancellationToken)
    {
        try
        {
            await using (System.IO.File.Create(path).ConfigureAwait(false))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BlockGraphException($"Could not create '{path}': {e.Message}");
        }
        // No image locks while formatting: a process forked meanwhile could hold a copy of this descriptor
        // (and so its locks) past our close, and the overlay is opened, with locks, right after.
        var file = FileNode.Open(path, readOnly: false, locking: false);
        try
        {
            await Qcow2Node.CreateAsync(file, new Qcow2CreateOptions
            {
                Size = backing.Length,
                BackingFile = backing.Filename,
                BackingFormat = backing.DriverName,
            }, cancellationToken).ConfigureAwait(false);
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await file.CloseAsync().ConfigureAwait(false);
        }
    }
}
