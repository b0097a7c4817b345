using Qmp.Block.Qcow2;

namespace Qmp.Block.Jobs;

/// <summary>
/// block-stream (job type "stream"): copies what the chain between the top and the base holds into
/// the top, then re-points the top's backing to the base (or none) and drops the intermediate nodes.
/// </summary>
/// <remarks>
/// Guest writes racing the copy are never lost: backing data is read outside any drained section
/// (the nodes below the top are not written by the guest), then, in a short drained section of the
/// top owned by the job, the allocation in the top is looked up again and only the sub-ranges still
/// unallocated there are written (QEMU's copy-on-read "copy only if still unallocated", done with a drain
/// instead of a filter).
/// </remarks>
public sealed class StreamJob : Job
{
    private const int ChunkSize = 512 * 1024;
    private readonly BlockGraph _graph;
    private readonly BlockNode _top;
    private readonly BlockNode? _base;
    private readonly string? _backingFile;
    private readonly List<BlockNode> _intermediates;

    private StreamJob(BlockGraph graph, string id, BlockNode top, BlockNode? baseNode, string? backingFile, List<BlockNode> intermediates, JobOptions options)
        : base(graph.Jobs, id, options)
    {
        _graph = graph;
        _top = top;
        _base = baseNode;
        _backingFile = backingFile;
        _intermediates = intermediates;
    }

    /// <inheritdoc/>
    public override string Type => "stream";

    /// <summary>The node data is streamed into.</summary>
    public BlockNode Top => _top;

    /// <summary>Checks block-stream's arguments as QEMU 7.2 does and starts the job (created and running are emitted before this returns).</summary>
    public static Task<StreamJob> StartAsync(BlockGraph graph, StreamJobOptions options, CancellationToken cancellationToken = default) =>
        graph.ChangeAsync(() => Task.FromResult(Create(graph, options)), cancellationToken);

    private static StreamJob Create(BlockGraph graph, StreamJobOptions options)
    {
        if (options.Base is not null && options.BaseNode is not null)
            throw new BlockGraphException("'base' and 'base-node' cannot be specified at the same time");
        if (options.Base is not null && options.Bottom is not null)
            throw new BlockGraphException("'base' and 'bottom' cannot be specified at the same time");
        if (options.Bottom is not null && options.BaseNode is not null)
            throw new BlockGraphException("'bottom' and 'base-node' cannot be specified at the same time");
        var top = graph.Lookup(options.Device, options.Device);
        BlockNode? baseNode = null;
        var baseName = options.Base;
        if (options.Base is not null)
        {
            baseNode = FindBackingImage(top, options.Base)
                ?? throw new BlockGraphException($"Can't find '{options.Base}' in the backing chain");
        }
        if (options.BaseNode is not null)
        {
            baseNode = graph.Lookup(null, options.BaseNode);
            if (baseNode == top || !BackingChain.Contains(top, baseNode))
                throw new BlockGraphException($"Node '{options.BaseNode}' is not a backing image of '{options.Device}'");
            baseName = baseNode.Filename;
        }
        if (options.Bottom is not null)
        {
            var bottom = graph.Lookup(null, options.Bottom);
            if (!BackingChain.Contains(top, bottom))
                throw new BlockGraphException($"Node '{options.Bottom}' is not in a chain starting from '{options.Device}'");
            baseNode = bottom.Backing;
        }
        if (baseNode is null && options.BackingFile is not null)
            throw new BlockGraphException("backing file specified, but streaming the entire chain");
        if (options.FilterNodeName is not null)
            throw new BlockGraphException("Parameter 'filter-node-name' is not supported by qmpd's block-stream");

        var intermediates = new List<BlockNode>();
        for (var node = top.Backing; node is not null && node != baseNode; node = node.Backing)
            intermediates.Add(node);
        foreach (var node in intermediates.Prepend(top))
        {
            if (BusyError(node) is { } busy)
                throw new BlockGraphException(busy);
        }
        if (!top.Writable)
            throw new BlockGraphException($"Node '{top.NodeName}' is read only");

        var id = options.JobId ?? BackingChain.DeviceName(top);
        graph.Jobs.CheckNewId(id);
        if (options.Job.Speed < 0)
            throw new BlockGraphException("Parameter 'speed' expects a non-negative value");
        var job = new StreamJob(graph, id, top, baseNode, options.BackingFile ?? baseName, intermediates, options.Job);
        job.Use(top);
        foreach (var node in intermediates)
            job.Use(node);
        graph.Jobs.Start(job);
        return job;
    }

    /// <inheritdoc/>
    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        var length = _top.Length;
        SetTotal(length);
        var buffer = new byte[ChunkSize];
        for (long offset = 0; offset < length; offset += ChunkSize)
        {
            await PausePointAsync(cancellationToken).ConfigureAwait(false);
            var chunk = (int)Math.Min(ChunkSize, length - offset);
            var copied = await CopyChunkAsync(offset, buffer.AsMemory(0, chunk), cancellationToken).ConfigureAwait(false);
            // Unallocated chunks are skipped without delay, as QEMU only throttles copied bytes.
            if (copied > 0)
                await ThrottleAsync(chunk, cancellationToken).ConfigureAwait(false);
            else
                AddProgress(chunk);
        }
        if (Error is not null)
            throw new BlockException(BlockError.Io, Error);
    }

    /// <inheritdoc/>
    protected override Task CommitAsync(CancellationToken cancellationToken) => _graph.ChangeAsync(async () =>
    {
        await InOwnDrainedSectionAsync(_top, async () =>
        {
            if (_top is Qcow2Node qcow2 && (_top.Backing is not null || qcow2.BackingFileName is not null))
                await qcow2.ChangeBackingFileAsync(_base is null ? null : _backingFile, _base?.DriverName, cancellationToken).ConfigureAwait(false);
            _top.ReplaceChild("backing", _base);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        foreach (var node in _intermediates)
            Release(node);
        // The old backing chain below the top drops out unless someone else holds it.
        if (_intermediates.Count > 0)
            await _graph.CloseIfUnusedAsync(_intermediates[0]).ConfigureAwait(false);
        return true;
    }, cancellationToken);

    // Copies the parts of [offset, offset+buffer.Length) that the top lacks and the chain above the base holds; returns bytes written.
    private async Task<long> CopyChunkAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var runs = new List<(long Offset, long Length)>();
        var end = offset + buffer.Length;
        for (var at = offset; at < end;)
        {
            var (length, copy) = await AllocatedAboveBaseAsync(at, end - at, cancellationToken).ConfigureAwait(false);
            if (copy)
                runs.Add((at, length));
            at += length;
        }
        if (runs.Count == 0)
            return 0;
        // Backing data first (reads through the top), outside any drained section.
        var readOk = await RequestAsync(true, () => _top.ReadAsync(offset, buffer), cancellationToken).ConfigureAwait(false);
        if (!readOk)
            return 0;
        return await InOwnDrainedSectionAsync(_top, async () =>
        {
            long written = 0;
            foreach (var (runOffset, runLength) in runs)
            {
                for (var at = runOffset; at < runOffset + runLength;)
                {
                    var status = await _top.GetStatusAsync(at, runOffset + runLength - at, cancellationToken).ConfigureAwait(false);
                    var length = Math.Max(1, status.Length);
                    // A guest write that landed in the top meanwhile wins.
                    if ((status.Flags & BlockStatusFlags.Allocated) == 0)
                    {
                        var data = buffer.Slice((int)(at - offset), (int)length);
                        if (await RequestAsync(false, () => _top.WriteAsync(at, data), cancellationToken).ConfigureAwait(false))
                            written += length;
                    }
                    at += length;
                }
            }
            return written;
        }, cancellationToken).ConfigureAwait(false);
    }

    // How long the run at offset is, and whether it must be copied: unallocated in the top, allocated in an intermediate node.
    private async Task<(long Length, bool Copy)> AllocatedAboveBaseAsync(long offset, long length, CancellationToken cancellationToken)
    {
        var status = await _top.GetStatusAsync(offset, length, cancellationToken).ConfigureAwait(false);
        length = Math.Max(1, status.Length);
        if ((status.Flags & BlockStatusFlags.Allocated) != 0)
            return (length, false);
        foreach (var node in _intermediates)
        {
            // Past the end of a shorter intermediate the top reads zeroes, which the base may not: copy them.
            if (offset >= node.Length)
                return (length, _base is not null);
            var below = await node.GetStatusAsync(offset, Math.Min(length, node.Length - offset), cancellationToken).ConfigureAwait(false);
            length = Math.Max(1, Math.Min(length, below.Length));
            if ((below.Flags & BlockStatusFlags.Allocated) != 0)
                return (length, true);
        }
        return (length, false);
    }

    private static BlockNode? FindBackingImage(BlockNode top, string name)
    {
        var full = Path.GetFullPath(name, Path.GetDirectoryName(top.Filename) ?? "/");
        for (var node = top.Backing; node is not null; node = node.Backing)
        {
            if (node.Filename == name || node.Filename == full)
                return node;
        }
        return null;
    }

    /// <summary>QEMU's op-blocker refusal for a node a job uses, or null.</summary>
    internal static string? BusyError(BlockNode node) => node.Users.OfType<Job>().FirstOrDefault() is { } job
        ? $"Node '{DeviceOrNodeName(node)}' is busy: block device is in use by block job: {job.Type}"
        : null;

    private static string DeviceOrNodeName(BlockNode node) => BackingChain.DeviceName(node) is { Length: > 0 } name ? name : node.NodeName;
}
