using Qmp.Block.Options;

namespace Qmp.Block;

public sealed partial class BlockGraph
{
    /// <summary>
    /// The node a command names by <paramref name="device"/> (a drive's name: its root) or
    /// <paramref name="nodeName"/>, with QEMU's error when neither resolves.
    /// </summary>
    public BlockNode Lookup(string? device, string? nodeName)
    {
        if (device is not null && FindBackend(device) is { } backend)
            return backend.Root ?? throw new BlockGraphException($"Device '{device}' has no medium");
        if (nodeName is not null && FindNode(nodeName) is { } node)
            return node;
        throw new BlockGraphException($"Cannot find device='{device ?? ""}' nor node-name='{nodeName ?? ""}'");
    }

    /// <summary>
    /// blockdev-snapshot: <paramref name="overlayName"/> (opened without a backing file) gets
    /// <paramref name="nodeName"/> as its backing file and takes its place under every user, in a drained section.
    /// </summary>
    public async Task SnapshotAsync(string nodeName, string overlayName, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var node = Lookup(nodeName, nodeName);
            var overlay = FindNode(overlayName) ?? throw new BlockGraphException($"Cannot find device='{overlayName}' nor node-name='{overlayName}'");
            if (overlay.InUse)
                throw new BlockGraphException("The overlay is already in use");
            if (!overlay.SupportsBacking)
                throw new BlockGraphException($"The overlay '{overlayName}' does not support backing images");
            if (overlay.Backing is not null)
                throw new BlockGraphException($"The overlay already has a backing image");
            if (overlay.ReadOnly)
                throw new BlockGraphException($"The overlay '{overlayName}' is not writable");
            await AppendAsync(node, overlay, cancellationToken).ConfigureAwait(false);
            lock (_nodes)
                _monitorOwned.Remove(overlay);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// blockdev-snapshot-sync: creates (or, in mode existing, opens) a qcow2 overlay at
    /// <paramref name="snapshotFile"/> whose backing file is the node's image, then installs it as
    /// <see cref="SnapshotAsync"/> does. A failure removes a file it created.
    /// </summary>
    public async Task SnapshotSyncAsync(string? device, string? nodeName, string snapshotFile, string? snapshotNodeName, string format, bool existing, CancellationToken cancellationToken = default)
    {
        if (format != "qcow2")
            throw new BlockGraphException($"Format '{format}' does not support backing files");
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        var created = false;
        BlockNode? overlay = null;
        try
        {
            var node = Lookup(device, nodeName);
            CheckName(snapshotNodeName);
            if (!existing)
            {
                await CreateOverlayImageAsync(snapshotFile, node, cancellationToken).ConfigureAwait(false);
                created = true;
            }
            overlay = await OpenTreeAsync(new Qcow2BlockdevOptions
            {
                NodeName = snapshotNodeName,
                File = BlockdevRef.Inline(new FileBlockdevOptions { Filename = snapshotFile, CacheDirect = File.FileNode.Under(node)?.Direct ?? false }),
                NoBacking = true,
                DiscardUnmap = node.DiscardUnmap,
                DetectZeroes = node.DetectZeroes,
            }, null, cancellationToken).ConfigureAwait(false);
            await AppendAsync(node, overlay, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (overlay is not null && !overlay.InUse)
                await CloseUnusedAsync(overlay).ConfigureAwait(false);
            if (created)
                System.IO.File.Delete(snapshotFile);
            throw;
        }
        finally
        {
            _lock.Release();
        }
    }

    // QEMU's bdrv_append: under a drained section the overlay takes the node's place in every
    // backend and parent, then the node becomes the overlay's backing file.
    private async Task AppendAsync(BlockNode node, BlockNode overlay, CancellationToken cancellationToken)
    {
        using var drained = await DrainedSection.BeginAsync(node, cancellationToken).ConfigureAwait(false);
        foreach (var user in node.Users.OfType<Backends.BlockBackend>().ToList())
        {
            user.Eject();
            user.Insert(overlay);
        }
        foreach (var link in node.ParentLinks.ToList())
        {
            link.Parent.RemoveChild(node);
            link.Parent.AddChild(link.Role, overlay);
        }
        overlay.ReplaceChild("backing", node);
    }

}
