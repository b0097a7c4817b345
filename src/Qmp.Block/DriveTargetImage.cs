using Qmp.Block.File;
using Qmp.Block.Qcow2;

namespace Qmp.Block;

/// <summary>
/// The image file a drive-* command (drive-backup, drive-mirror) creates for its target in mode absolute-paths:
/// QEMU's bdrv_img_create for the formats qmpd writes, raw (no backing file) and qcow2.
/// </summary>
internal static class DriveTargetImage
{
    /// <summary>
    /// Creates (or truncates) <paramref name="path"/> and formats it as a <paramref name="format"/> image of
    /// <paramref name="size"/> bytes, backed by <paramref name="backing"/>'s file if given. Failures carry QEMU's texts.
    /// </summary>
    internal static async Task CreateAsync(string path, string format, long size, BlockNode? backing, CancellationToken cancellationToken)
    {
        if (format is not ("qcow2" or "raw"))
            throw new BlockGraphException($"Unknown file format '{format}'");
        if (backing is not null && format == "raw")
            throw new BlockGraphException($"Backing file not supported for file format '{format}'");
        try
        {
            await using (System.IO.File.Create(path).ConfigureAwait(false))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // QEMU's strerror text.
            var reason = e is DirectoryNotFoundException ? "No such file or directory" : e is UnauthorizedAccessException ? "Permission denied" : e.Message;
            throw new BlockGraphException($"Could not create '{path}': {reason}");
        }
        // No image locks while formatting (see BlockGraph.CreateOverlayImageAsync).
        var file = FileNode.Open(path, readOnly: false, locking: false);
        try
        {
            if (format == "qcow2")
            {
                await Qcow2Node.CreateAsync(file, new Qcow2CreateOptions
                {
                    Size = size,
                    BackingFile = backing?.Filename,
                    BackingFormat = backing?.DriverName,
                }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await file.TruncateAsync(size, cancellationToken).ConfigureAwait(false);
            }
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await file.CloseAsync().ConfigureAwait(false);
        }
    }
}
