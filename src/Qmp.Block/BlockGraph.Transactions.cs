using Qmp.Block.File;
using Qmp.Block.Options;

namespace Qmp.Block;

// What the transaction command's actions need of the graph: drive-backup's implicit target, undoing a snapshot.
public sealed partial class BlockGraph
{
    /// <summary>
    /// drive-backup's target, as QEMU 7.2 makes it: in mode absolute-paths a new image of
    /// <paramref name="format"/> (default: the source's) as large as the source, backed by <paramref name="backing"/>
    /// if given; in mode existing the file as it is (format probed if not given). The node is opened with an
    /// automatic name and belongs to no one but its job; <paramref name="backing"/> becomes its backing child.
    /// Returns the node and whether a file was created (the caller deletes it if the transaction fails).
    /// </summary>
    internal async Task<(BlockNode Node, bool Created)> OpenBackupTargetAsync(BlockNode source, string path, string? format, bool existing, BlockNode? backing, CancellationToken cancellationToken)
    {
        format ??= existing ? null : source.DriverName;
        // A file that was there before is not deleted on failure (it was overwritten, as QEMU does).
        var existed = System.IO.File.Exists(path);
        var created = false;
        try
        {
            if (!existing)
            {
                await DriveTargetImage.CreateAsync(path, format!, source.Length, backing, cancellationToken).ConfigureAwait(false);
                created = !existed;
            }
            format ??= System.IO.File.Exists(path) ? ProbeFormat(path) : throw new BlockGraphException($"Could not open '{path}': No such file or directory");
            var file = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path, CacheDirect = FileNode.Under(source)?.Direct ?? false });
            BlockdevOptions options = format switch
            {
                "qcow2" => new Qcow2BlockdevOptions { File = file, Backing = backing is null ? null : BlockdevRef.To(backing.NodeName) },
                "raw" => new RawBlockdevOptions { File = file },
                _ => throw new BlockGraphException($"Unknown driver '{format}'"),
            };
            return (await OpenTreeAsync(options, null, cancellationToken).ConfigureAwait(false), created);
        }
        catch
        {
            if (created)
                System.IO.File.Delete(path);
            throw;
        }
    }

    /// <summary>Closes drive-backup's target once its job let go of it.</summary>
    internal Task CloseBackupTargetAsync(BlockNode node) => ChangeAsync(async () =>
    {
        await CloseIfUnusedAsync(node).ConfigureAwait(false);
        return true;
    });

    /// <summary>
    /// Undoes a snapshot a failed transaction took: under a drained section <paramref name="node"/> takes the
    /// overlay's place again; an overlay the snapshot created is closed (its file deleted if it was created),
    /// one the monitor added (blockdev-snapshot) goes back to the monitor.
    /// </summary>
    internal Task UndoSnapshotAsync(BlockNode node, BlockNode overlay, bool closeOverlay, string? deletePath, CancellationToken cancellationToken) => ChangeAsync(async () =>
    {
        using (await DrainedSection.BeginAsync(overlay, cancellationToken).ConfigureAwait(false))
        {
            foreach (var user in overlay.Users.OfType<Backends.BlockBackend>().ToList())
            {
                user.Eject();
                user.Insert(node);
            }
            foreach (var link in overlay.ParentLinks.ToList())
            {
                link.Parent.RemoveChild(overlay);
                link.Parent.AddChild(link.Role, node);
            }
            overlay.ReplaceChild("backing", null);
        }
        if (closeOverlay)
        {
            await CloseIfUnusedAsync(overlay).ConfigureAwait(false);
            if (deletePath is not null)
                System.IO.File.Delete(deletePath);
        }
        else
        {
            lock (_nodes)
                _monitorOwned.Add(overlay);
        }
        return true;
    }, cancellationToken);
}
