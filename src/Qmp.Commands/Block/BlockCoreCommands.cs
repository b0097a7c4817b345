using Qmp.Block;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Block;

/// <summary>
/// block-core.json: node management, queries, resize and external snapshots over the machine's block
/// graph. These run off the machine thread: the graph serialises its own changes and drains what it touches.
/// </summary>
public sealed class BlockCoreCommands(Machine.Machine machine) : IBlockCoreCommands
{
    private BlockGraph Graph => machine.Block;

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BlockInfo>> QueryBlockAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<BlockInfo> list = Graph.Backends.Where(b => b.Name.Length > 0 || b.Device is not null).Select(b => new BlockInfo
        {
            Device = b.Name,
            Qdev = b.Device?.QomPath,
            Type = "unknown",
            Removable = false,
            Locked = false,
            Inserted = b.Root is { } root ? BlockInfoMapping.DeviceInfo(root, flat: false, b) : null,
            // Devices that apply rerror/werror enable the I/O status, as virtio-blk does in QEMU.
            IoStatus = b.Device is null ? null : b.IoStatus switch
            {
                Qmp.Block.Backends.BlockIoStatus.Failed => BlockDeviceIoStatus.Failed,
                Qmp.Block.Backends.BlockIoStatus.NoSpace => BlockDeviceIoStatus.Nospace,
                _ => BlockDeviceIoStatus.Ok,
            },
        }).ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BlockStats>> QueryBlockstatsAsync(QueryBlockstatsArguments arguments, CancellationToken cancellationToken)
    {
        IReadOnlyList<BlockStats> list = arguments.QueryNodes == true
            ? Graph.Nodes.Select(n => BlockInfoMapping.NodeStats(n, null, withBacking: false)).ToList()
            : Graph.Backends.Where(b => b.Name.Length > 0 || b.Device is not null).Select(b =>
            {
                var stats = b.Root is { } root
                    ? BlockInfoMapping.NodeStats(root, b.Stats, withBacking: true)
                    : new BlockStats { Stats = BlockInfoMapping.Stats(b.Stats, b.Stats.WriteHighestOffset) };
                stats.Device = b.Name;
                stats.Qdev = b.Device?.QomPath;
                return stats;
            }).ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<BlockDeviceInfo>> QueryNamedBlockNodesAsync(QueryNamedBlockNodesArguments arguments, CancellationToken cancellationToken)
    {
        var flat = arguments.Flat ?? false;
        // QEMU lists the most recently named node first.
        IReadOnlyList<BlockDeviceInfo> list = Graph.Nodes.Reverse().Select(n => BlockInfoMapping.DeviceInfo(n, flat)).ToList();
        return ValueTask.FromResult(list);
    }

    /// <inheritdoc/>
    public async ValueTask BlockResizeAsync(BlockResizeArguments arguments, CancellationToken cancellationToken)
    {
        if (arguments.Size < 0)
            throw QmpErrorException.Generic("Parameter 'size' expects a >0 size");
        await Run(async () =>
        {
            var node = Graph.Lookup(arguments.Device, arguments.NodeName);
            if (node.ReadOnly)
                throw new BlockGraphException($"Node '{node.NodeName}' is read only");
            if (node.Activation != BlockActivation.Active)
                throw new BlockGraphException("Permission 'resize' unavailable on inactive node");
            using (await DrainedSection.BeginAsync(node, cancellationToken).ConfigureAwait(false))
                await node.TruncateAsync(arguments.Size, cancellationToken).ConfigureAwait(false);
            foreach (var backend in node.Users.OfType<Qmp.Block.Backends.BlockBackend>())
                backend.Device?.Resized();
        }).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public ValueTask BlockdevSnapshotSyncAsync(BlockdevSnapshotSync arguments, CancellationToken cancellationToken) =>
        Run(() => Graph.SnapshotSyncAsync(arguments.Device, arguments.NodeName, arguments.SnapshotFile, arguments.SnapshotNodeName,
            arguments.Format ?? "qcow2", arguments.Mode == NewImageMode.Existing, cancellationToken));

    /// <inheritdoc/>
    public ValueTask BlockdevSnapshotAsync(BlockdevSnapshot arguments, CancellationToken cancellationToken) =>
        Run(() => Graph.SnapshotAsync(arguments.Node, arguments.Overlay, cancellationToken));

    /// <inheritdoc/>
    public ValueTask BlockdevAddAsync(BlockdevOptions arguments, CancellationToken cancellationToken) =>
        Run(() => Graph.AddAsync(BlockdevMapping.ToDomain(arguments), cancellationToken));

    /// <inheritdoc/>
    public ValueTask BlockdevDelAsync(BlockdevDelArguments arguments, CancellationToken cancellationToken) =>
        Run(() => Graph.DeleteAsync(arguments.NodeName, cancellationToken));

    /// <inheritdoc/>
    public ValueTask BlockdevSetActiveAsync(BlockdevSetActiveArguments arguments, CancellationToken cancellationToken) =>
        Run(() => Graph.SetActiveAsync(arguments.NodeName, arguments.Active, cancellationToken));

    private static ValueTask Run(Func<Task> operation) => BlockErrors.RunAsync(operation);
}
