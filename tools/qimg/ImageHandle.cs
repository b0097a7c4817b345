using System.Buffers.Binary;
using Qmp.Block;
using Qmp.Block.Options;

namespace Qmp.Img;

/// <summary>
/// One image opened the way qemu-img opens it (img_open): the protocol node first, then the format, probed from
/// the first bytes unless given, then (for qcow2) the backing chain, all through the block graph. Errors carry
/// qemu-img's "Could not open 'file': …" text; disposing flushes and closes every node.
/// </summary>
internal sealed class ImageHandle : IAsyncDisposable
{
    private readonly BlockGraph _graph;

    private ImageHandle(BlockGraph graph, BlockNode root, string path)
    {
        _graph = graph;
        Root = root;
        Path = path;
    }

    /// <summary>The format node (raw or qcow2).</summary>
    public BlockNode Root { get; }

    /// <summary>The file name as the user gave it.</summary>
    public string Path { get; }

    /// <summary>The format driver's name.</summary>
    public string Format => Root.DriverName;

    public static async Task<ImageHandle> OpenAsync(string path, ImageOpenOptions options, CancellationToken cancellationToken)
    {
        var graph = new BlockGraph();
        try
        {
            var file = await graph.AddAsync(new FileBlockdevOptions
            {
                NodeName = "file",
                Filename = path,
                ReadOnly = !options.Writable,
                ForceShare = options.ForceShare,
                CacheDirect = options.Cache.Direct,
                CacheNoFlush = options.Cache.NoFlush,
            }, cancellationToken).ConfigureAwait(false);
            var format = options.Format ?? await ProbeAsync(file, cancellationToken).ConfigureAwait(false);
            if (options.Format is null && format == "raw" && options.Writable)
            {
                // qemu-img's warning for a probed raw image opened for writing (it then guards block 0; we only warn).
                Terminal.Error.Write($"WARNING: Image format was not specified for '{path}' and probing guessed raw.\n"
                    + "         Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted.\n"
                    + "         Specify the 'raw' format explicitly to remove the restrictions.\n");
            }
            BlockdevOptions definition = format switch
            {
                "raw" => new RawBlockdevOptions { File = BlockdevRef.To("file") },
                "qcow2" => new Qcow2BlockdevOptions { File = BlockdevRef.To("file"), NoBacking = options.NoBacking, OpenForRepair = options.ForRepair },
                _ => throw new ImgException($"Could not open '{path}': Unknown driver '{format}'"),
            };
            var root = await graph.AddAsync(definition with
            {
                NodeName = "image",
                ReadOnly = !options.Writable,
                ForceShare = options.ForceShare,
                CacheDirect = options.Cache.Direct,
                CacheNoFlush = options.Cache.NoFlush,
            }, cancellationToken).ConfigureAwait(false);
            return new ImageHandle(graph, root, path);
        }
        catch (Exception e) when (e is BlockException or BlockGraphException)
        {
            await graph.DisposeAsync().ConfigureAwait(false);
            throw new ImgException($"Could not open '{path}': {e.Message}");
        }
        catch
        {
            await graph.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens just the protocol node of <paramref name="path"/>, read-write with the image locks (for creating an image in it).</summary>
    public static async Task<ImageHandle> OpenProtocolAsync(string path, CancellationToken cancellationToken)
    {
        var graph = new BlockGraph();
        try
        {
            var file = await graph.AddAsync(new FileBlockdevOptions { NodeName = "file", Filename = path }, cancellationToken).ConfigureAwait(false);
            return new ImageHandle(graph, file, path);
        }
        catch (Exception e) when (e is BlockException or BlockGraphException)
        {
            await graph.DisposeAsync().ConfigureAwait(false);
            throw new ImgException(e.Message);
        }
    }

    /// <summary>The backing chain from the root down (the root first).</summary>
    public IEnumerable<BlockNode> Chain()
    {
        for (var node = Root; node is not null; node = node.Backing)
            yield return node;
    }

    public ValueTask DisposeAsync() => _graph.DisposeAsync();

    // bdrv_probe: qcow2's magic, else raw (the only formats there are drivers for).
    private static async Task<string> ProbeAsync(BlockNode file, CancellationToken cancellationToken)
    {
        var magic = new byte[4];
        if (file.Length >= 4)
            await file.ReadAsync(0, magic, cancellationToken).ConfigureAwait(false);
        return BinaryPrimitives.ReadUInt32BigEndian(magic) == 0x514649FB ? "qcow2" : "raw";
    }
}
