using Qmp.Block.File;
using Qmp.Block.Options;

namespace Qmp.Block.Jobs;

/// <summary>
/// drive-mirror: creates the target image (mode absolute-paths) or opens an existing one, then starts a
/// <see cref="MirrorJob"/> on it. Unlike QEMU 7.2, a refused drive-mirror leaves nothing behind: the node it
/// opened is closed and the file it created removed; and it never formats a file an open node uses.
/// </summary>
public static class DriveMirror
{
    /// <summary>Checks drive-mirror's arguments as QEMU 7.2 does, prepares the target and starts the job.</summary>
    public static Task<MirrorJob> StartAsync(BlockGraph graph, DriveMirrorOptions options, CancellationToken cancellationToken = default) =>
        graph.ChangeAsync(() => StartLockedAsync(graph, options, cancellationToken), cancellationToken);

    private static async Task<MirrorJob> StartLockedAsync(BlockGraph graph, DriveMirrorOptions options, CancellationToken cancellationToken)
    {
        var mirror = options.Mirror;
        var source = graph.Lookup(mirror.Device, mirror.Device);
        if (source.ParentLinks.Count > 0 || source.Users.OfType<MirrorJob>().Any(j => j.Source == source))
            throw new BlockGraphException("Need a root block node");
        if (StreamJob.BusyError(source) is { } busy)
            throw new BlockGraphException(busy);
        var format = options.Format ?? (options.Existing ? null : source.DriverName);
        var sync = mirror.UnsupportedSync is null && mirror.Sync == MirrorSyncMode.Top && source.Backing is null ? MirrorSyncMode.Full : mirror.Sync;
        var targetBacking = sync == MirrorSyncMode.None ? source : source.Backing;
        if (mirror.Replaces is not null && options.NodeName is null)
            throw new BlockGraphException("a node-name must be provided when replacing a named node of the graph");
        var path = Path.GetFullPath(mirror.Target);
        // QEMU 7.2 formats such a file before its lock check fails, destroying the image; qmpd refuses first.
        if (graph.Nodes.Any(n => n is FileNode && n.Filename == path))
            throw new BlockGraphException("Failed to get \"write\" lock");
        var created = false;
        BlockNode? target = null;
        try
        {
            if (!options.Existing)
            {
                var withBacking = sync != MirrorSyncMode.Full && targetBacking is not null;
                await DriveTargetImage.CreateAsync(path, format!, source.Length, withBacking ? targetBacking : null, cancellationToken).ConfigureAwait(false);
                created = true;
            }
            if (format is null && !System.IO.File.Exists(path))
                throw new BlockException(BlockError.Io, $"Could not open '{path}': No such file or directory");
            format ??= BlockGraph.ProbeFormat(path);
            target = await graph.OpenUnownedAsync(TargetOptions(path, format, options.NodeName, source, noBacking: !options.Existing), cancellationToken).ConfigureAwait(false);
            return await MirrorJob.StartLockedAsync(graph, mirror with
            {
                Target = target.NodeName,
                BackingMode = options.Existing ? MirrorBackingMode.Open : MirrorBackingMode.Source,
            }, closeTargetAtEnd: true, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (target is not null && !target.InUse)
                await graph.CloseUnownedAsync(target).ConfigureAwait(false);
            if (created)
                System.IO.File.Delete(path);
            throw;
        }
    }

    // The target opens like the source (cache, discard, detect-zeroes); without its backing file when qmpd created it, as QEMU's BDRV_O_NO_BACKING.
    private static BlockdevOptions TargetOptions(string path, string format, string? nodeName, BlockNode source, bool noBacking)
    {
        var file = BlockdevRef.Inline(new FileBlockdevOptions { Filename = path, CacheDirect = FileNode.Under(source)?.Direct ?? false });
        return format switch
        {
            "qcow2" => new Qcow2BlockdevOptions { NodeName = nodeName, File = file, NoBacking = noBacking, DiscardUnmap = source.DiscardUnmap, DetectZeroes = source.DetectZeroes },
            "raw" => new RawBlockdevOptions { NodeName = nodeName, File = file, DiscardUnmap = source.DiscardUnmap, DetectZeroes = source.DetectZeroes },
            _ => throw new BlockGraphException($"Unknown driver '{format}'"),
        };
    }
}
