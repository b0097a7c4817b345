using Qmp.Block;
using Qmp.Block.Qcow2;

namespace Qmp.Img;

/// <summary>
/// bdrv_img_create: checks the options and the backing file, prints the "Formatting …" line and writes a new
/// raw or qcow2 image through the block layer (qcow2 through <see cref="Qcow2Node.CreateAsync"/>). Used by
/// <c>create</c> and by <c>convert</c> for its target.
/// </summary>
internal static class ImageCreator
{
    /// <summary>Creates <paramref name="path"/>; <paramref name="size"/> null takes the backing file's size. Errors are "path: message".</summary>
    public static async Task CreateAsync(string path, string format, CreateOptionList options, long? size, bool openBacking, bool quiet, CancellationToken cancellationToken)
    {
        try
        {
            await CreateCoreAsync(path, format, options, size, openBacking, quiet, cancellationToken).ConfigureAwait(false);
        }
        catch (ImgException e)
        {
            throw new ImgException($"{path}: {e.Message}", e.ExitCode) { Hint = e.Hint };
        }
        catch (Exception e) when (e is BlockException or BlockGraphException)
        {
            throw new ImgException($"{path}: {e.Message}");
        }
    }

    private static async Task CreateCoreAsync(string path, string format, CreateOptionList options, long? size, bool openBacking, bool quiet, CancellationToken cancellationToken)
    {
        if (options.GetNumber("size") is { } optionSize)
        {
            if (size is not null)
                throw new ImgException("The image size must be specified only once");
            size = (long)optionSize;
        }
        var backingFile = options.Get("backing_file");
        var backingFormat = options.Get("backing_fmt");
        if (backingFile is not null)
        {
            if (backingFile == path)
                throw new ImgException("Error: Trying to create an image with the same filename as the backing file");
            if (backingFile.Length == 0)
                throw new ImgException("Expected backing file name, got empty string");
        }
        if (backingFile is not null && openBacking)
        {
            var backingSize = await ProbeBackingAsync(path, backingFile, backingFormat, cancellationToken).ConfigureAwait(false);
            size ??= backingSize;
            if (options.GetNumber("size") is null)
                options.Set("size", size.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        else if (backingFile is not null && backingFormat is null)
        {
            throw new ImgException("Backing file specified without backing format");
        }
        if (size is null)
            throw new ImgException("Image creation needs a size parameter");
        if (options.GetNumber("size") is null)
            options.Set("size", size.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!quiet)
        {
            Terminal.Out.Write($"Formatting '{path}', fmt={format} {options.Print()}\n");
            Terminal.Out.Flush();
        }
        if (format == "qcow2")
            await CreateQcow2Async(path, options, size.Value, cancellationToken).ConfigureAwait(false);
        else
            await CreateRawAsync(path, options.Get("preallocation") ?? "off", size.Value, cancellationToken).ConfigureAwait(false);
    }

    // Opens the backing chain as bdrv_img_create does (read-only, force-share, the given format) for its size.
    private static async Task<long> ProbeBackingAsync(string path, string backingFile, string? backingFormat, CancellationToken cancellationToken)
    {
        var fullPath = PathCombine(path, backingFile);
        ImageHandle backing;
        try
        {
            backing = await ImageHandle.OpenAsync(fullPath, new ImageOpenOptions { Format = backingFormat, ForceShare = true }, cancellationToken).ConfigureAwait(false);
        }
        catch (ImgException e)
        {
            // qemu-img reports the open error itself, without the "Could not open 'x':" wrapper, and a hint.
            var prefix = $"Could not open '{fullPath}': ";
            var message = e.Message.StartsWith(prefix, StringComparison.Ordinal) ? e.Message[prefix.Length..] : e.Message;
            throw new ImgException($"{message}\nCould not open backing image.");
        }
        await using (backing.ConfigureAwait(false))
        {
            if (backingFormat is null)
                throw new ImgException("Backing file specified without backing format") { Hint = $"Detected format of {backing.Format}." };
            return BlockStatusQuery.VirtualLength(backing.Root);
        }
    }

    /// <summary>QEMU's path_combine: a relative backing file name is relative to the image's directory.</summary>
    public static string PathCombine(string imagePath, string backing)
    {
        if (Path.IsPathRooted(backing) || backing.Contains(':', StringComparison.Ordinal))
            return backing;
        var slash = imagePath.LastIndexOf('/');
        return slash < 0 ? backing : string.Concat(imagePath.AsSpan(0, slash + 1), backing);
    }

    private static async Task<ImageHandle> OpenNewFileAsync(string path, CancellationToken cancellationToken)
    {
        // file-posix creates without truncating, locks, then truncates: an image another process holds is left alone.
        try
        {
            using (new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImgException($"Could not create '{path}': {HostError.Describe(e)}");
        }
        return await ImageHandle.OpenProtocolAsync(path, cancellationToken).ConfigureAwait(false);
    }

    private static async Task CreateRawAsync(string path, string preallocation, long size, CancellationToken cancellationToken)
    {
        if (preallocation is not ("off" or "falloc" or "full"))
            throw new ImgException($"Parameter 'preallocation' does not accept value '{preallocation}'");
        var handle = await OpenNewFileAsync(path, cancellationToken).ConfigureAwait(false);
        await using (handle.ConfigureAwait(false))
        {
            var file = handle.Root;
            await file.TruncateAsync(0, cancellationToken).ConfigureAwait(false);
            await file.TruncateAsync(size, cancellationToken).ConfigureAwait(false);
            switch (preallocation)
            {
                case "falloc":
                    await file.WriteZeroesAsync(0, size, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
                    break;
                case "full":
                    await ZeroFillAsync(file, 0, size, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    // allocate_first_block: later alignment probing (O_DIRECT) finds a real block at 0.
                    if (size > 0)
                        await file.WriteAsync(0, new byte[size < 4096 ? 512 : 4096], BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    private static async Task CreateQcow2Async(string path, CreateOptionList options, long size, CancellationToken cancellationToken)
    {
        var compat = options.Get("compat") ?? "1.1";
        if (compat is not ("0.10" or "v2" or "1.1" or "v3"))
            throw new ImgException($"Parameter 'version' does not accept value '{compat}'");
        var preallocation = options.Get("preallocation") ?? "off";
        if (preallocation is not ("off" or "metadata" or "falloc" or "full"))
            throw new ImgException($"Parameter 'preallocation' does not accept value '{preallocation}'");
        var compression = options.Get("compression_type") ?? "zlib";
        if (compression is not ("zlib" or "zstd"))
            throw new ImgException($"Parameter 'compression-type' does not accept value '{compression}'");
        if (compression == "zstd")
            throw new ImgException("qcow2: zstd compression is not supported");
        if (options.GetBool("extended_l2", false))
            throw new ImgException("qcow2: extended L2 entries (subclusters) are not supported");
        if (options.Get("data_file") is not null || options.Get("data_file_raw") is not null)
            throw new ImgException("qcow2: external data files are not supported");
        if (options.GetBool("encryption", false) || options.Get("encrypt.format") is not null)
            throw new ImgException("qcow2: encrypted images are not supported");
        var clusterSize = options.GetNumber("cluster_size") ?? 65536;
        var refcountBits = options.GetNumber("refcount_bits") ?? 16;
        var create = new Qcow2CreateOptions
        {
            Size = size,
            ClusterSize = (int)Math.Min(clusterSize, int.MaxValue),
            Compat = compat,
            LazyRefcounts = options.GetBool("lazy_refcounts", false),
            RefcountBits = (int)Math.Min(refcountBits, 128),
            BackingFile = options.Get("backing_file"),
            BackingFormat = options.Get("backing_fmt"),
            Preallocation = preallocation == "off" ? "off" : "metadata",
        };
        var handle = await OpenNewFileAsync(path, cancellationToken).ConfigureAwait(false);
        await using (handle.ConfigureAwait(false))
        {
            var file = handle.Root;
            await Qcow2Node.CreateAsync(file, create, cancellationToken).ConfigureAwait(false);
            if (preallocation is "falloc" or "full")
                await AllocateHolesAsync(file, preallocation == "full", cancellationToken).ConfigureAwait(false);
        }
    }

    // After metadata preallocation the data clusters are the holes of the file: give them host blocks
    // (fallocate for falloc, written zeroes for full), leaving the metadata in between untouched.
    private static async Task AllocateHolesAsync(BlockNode file, bool write, CancellationToken cancellationToken)
    {
        var end = file.Length;
        for (var offset = 0L; offset < end;)
        {
            var status = await file.GetStatusAsync(offset, end - offset, cancellationToken).ConfigureAwait(false);
            if ((status.Flags & BlockStatusFlags.Zero) != 0)
            {
                if (write)
                    await ZeroFillAsync(file, offset, status.Length, cancellationToken).ConfigureAwait(false);
                else
                    await file.WriteZeroesAsync(offset, status.Length, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
            }
            offset += status.Length;
        }
    }

    private static async Task ZeroFillAsync(BlockNode file, long offset, long length, CancellationToken cancellationToken)
    {
        var zeroes = new byte[Math.Min(length, 1 << 20)];
        while (length > 0)
        {
            var chunk = (int)Math.Min(length, zeroes.Length);
            await file.WriteAsync(offset, zeroes.AsMemory(0, chunk), BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
            offset += chunk;
            length -= chunk;
        }
    }
}
