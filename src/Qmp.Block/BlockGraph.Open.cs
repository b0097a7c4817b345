using System.Buffers.Binary;
using Qmp.Block.File;
using Qmp.Block.Options;
using Qmp.Block.Raw;

namespace Qmp.Block;

public sealed partial class BlockGraph
{
    /// <summary>The format of the image at <paramref name="path"/> by its first bytes, as QEMU probes: qcow2's magic, else raw.</summary>
    public static string ProbeFormat(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && BinaryPrimitives.ReadUInt32BigEndian(magic) == 0x514649FB)
                return "qcow2";
        }
        catch (IOException e)
        {
            throw new BlockException(BlockError.Io, $"Could not open '{path}': {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new BlockException(BlockError.Permission, $"Could not open '{path}': Permission denied", e);
        }
        return "raw";
    }

    // Opens a node and its inline children; anything opened here is closed again if a later step fails.
    private async Task<BlockNode> OpenTreeAsync(BlockdevOptions options, BlockdevOptions? parent, CancellationToken cancellationToken)
    {
        if (parent is not null)
            options = parent.InheritInto(options);
        CheckName(options.NodeName);
        var opened = new List<BlockNode>();
        try
        {
            return await OpenNodeAsync(options, opened, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            for (var i = opened.Count - 1; i >= 0; i--)
            {
                foreach (var child in opened[i].Children)
                    opened[i].RemoveChild(child.Node);
                lock (_nodes)
                    _nodes.Remove(opened[i]);
                await opened[i].CloseAsync().ConfigureAwait(false);
            }
            throw;
        }
    }

    private async Task<BlockNode> OpenNodeAsync(BlockdevOptions options, List<BlockNode> opened, CancellationToken cancellationToken)
    {
        BlockNode node;
        switch (options)
        {
            case FileBlockdevOptions file:
                node = FileNode.Open(file.Filename, file.ReadOnly, file.CacheDirect, file.Locking != "off", file.CacheNoFlush, file.Active, file.ForceShare, file.AutoReadOnly);
                break;
            case RawBlockdevOptions raw:
            {
                var child = await ResolveChildAsync(raw.File, raw, opened, cancellationToken).ConfigureAwait(false);
                var rawNode = RawNode.Open(child, raw.ReadOnly || child.ReadOnly, raw.Offset, raw.Size);
                rawNode.AddChild("file", child);
                node = rawNode;
                break;
            }
            default:
                node = await OpenFormatAsync(options, opened, cancellationToken).ConfigureAwait(false);
                break;
        }
        if (!options.Active)
            node.SetActivation(BlockActivation.Inactive);
        node.DiscardUnmap = options.DiscardUnmap;
        node.DetectZeroes = options.DetectZeroes;
        opened.Add(node);
        // A child opened meanwhile may have taken the name: QEMU names a node after opening its children.
        CheckName(options.NodeName);
        Register(node, options.NodeName);
        if (node is Qcow2.Qcow2Node qcow2 && options is Qcow2BlockdevOptions qcow2Options)
            await AttachBackingAsync(qcow2, qcow2Options, opened, cancellationToken).ConfigureAwait(false);
        return node;
    }

    private async Task<BlockNode> ResolveChildAsync(BlockdevRef reference, BlockdevOptions parent, List<BlockNode> opened, CancellationToken cancellationToken)
    {
        if (reference.Reference is { } name)
        {
            return FindNode(name) ?? FindBackend(name)?.Root
                ?? throw new BlockGraphException($"Cannot find device='{name}' nor node-name='{name}'");
        }
        var definition = parent.InheritInto(reference.Definition ?? throw new BlockGraphException("a child needs a reference or a definition"));
        CheckName(definition.NodeName);
        return await OpenNodeAsync(definition, opened, cancellationToken).ConfigureAwait(false);
    }

    private void CheckName(string? name)
    {
        if (name is null)
            return;
        if (NodeNames.Check(name) is { } invalid)
            throw new BlockGraphException(invalid);
        if (FindBackend(name) is not null)
            throw new BlockGraphException($"node-name={name} is conflicting with a device id");
        if (FindNode(name) is not null)
            throw new BlockGraphException($"Duplicate nodes with node-name='{name}'");
    }
}
