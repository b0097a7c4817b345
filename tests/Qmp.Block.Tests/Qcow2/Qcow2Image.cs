using Qmp.Block.File;
using Qmp.Block.Qcow2;
using Qmp.Block.Raw;

namespace Qmp.Block.Tests.Qcow2;

/// <summary>Opens qcow2 images (and their backing chains) the way the graph would, and closes every node on dispose.</summary>
internal sealed class Qcow2Image : IAsyncDisposable
{
    private readonly List<BlockNode> _nodes = [];

    private Qcow2Image(Qcow2Node node) => Node = node;

    public Qcow2Node Node { get; }

    public static async Task<Qcow2Image> OpenAsync(string path, bool readOnly = false, Qcow2OpenOptions? options = null, bool withBacking = true)
    {
        // No image locks in tests: a qemu-img forked by a parallel test briefly inherits our descriptions.
        var file = FileNode.Open(path, readOnly, locking: false);
        Qcow2Node node;
        try
        {
            node = await Qcow2Node.OpenAsync(file, readOnly, options ?? Qcow2OpenOptions.Default, CancellationToken.None);
        }
        catch
        {
            await file.CloseAsync();
            throw;
        }
        var image = new Qcow2Image(node);
        image._nodes.Add(node);
        image._nodes.Add(file);
        if (withBacking && node.FullBackingFileName is { } backingPath)
            node.AttachBacking(await image.OpenBackingAsync(backingPath, node.BackingFormat ?? "raw"));
        return image;
    }

    public static async Task<Qcow2Image> CreateAsync(string path, Qcow2CreateOptions options)
    {
        await System.IO.File.WriteAllBytesAsync(path, []);
        var file = FileNode.Open(path, readOnly: false, locking: false);
        try
        {
            await Qcow2Node.CreateAsync(file, options, CancellationToken.None);
        }
        finally
        {
            await file.CloseAsync();
        }
        return await OpenAsync(path);
    }

    private async Task<BlockNode> OpenBackingAsync(string path, string format)
    {
        var file = FileNode.Open(path, readOnly: true, locking: false);
        if (format == "raw")
        {
            var raw = RawNode.Open(file, readOnly: true);
            _nodes.Add(raw);
            _nodes.Add(file);
            return raw;
        }
        var node = await Qcow2Node.OpenAsync(file, readOnly: true, Qcow2OpenOptions.Default, CancellationToken.None);
        _nodes.Add(node);
        _nodes.Add(file);
        if (node.FullBackingFileName is { } next)
            node.AttachBacking(await OpenBackingAsync(next, node.BackingFormat ?? "raw"));
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
            await node.CloseAsync();
        _nodes.Clear();
    }
}
