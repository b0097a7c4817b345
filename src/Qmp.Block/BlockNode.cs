namespace Qmp.Block;

/// <summary>
/// A node of the block graph (QEMU's BlockDriverState): a protocol driver over a host file or a format
/// driver over child nodes. Every request enters through the public methods here, which check the range
/// and the node's state, count the request in flight (so drained sections can wait for it) and call
/// the driver's <c>*CoreAsync</c> implementation.
/// </summary>
/// <remarks>
/// Requests may be issued from any thread and run concurrently; a driver serialises what it must
/// (metadata) itself. Graph changes (children, parents, names) are made by the graph
/// under its lock, inside drained sections where they affect requests.
/// </remarks>
public abstract partial class BlockNode
{
    private readonly List<BlockChild> _children = [];
    private readonly List<BlockChild> _parentLinks = [];
    private readonly List<IBlockParent> _users = [];
    private readonly object _idleLock = new();
    private TaskCompletionSource? _idle;
    private int _inFlight;
    private int _quiesce;
    private long _highestWrite;
    private volatile BlockActivation _activation = BlockActivation.Active;

    /// <summary>Opens a node read-only or read-write.</summary>
    protected BlockNode(bool readOnly)
    {
        ReadOnly = readOnly;
        AllowWritableReopen = !readOnly;
    }

    /// <summary>The node's name: user-given, or QEMU-style automatic ("#block123").</summary>
    public string NodeName { get; internal set; } = "";

    /// <summary>Whether the graph generated <see cref="NodeName"/>.</summary>
    public bool AutoNamed { get; internal set; }

    /// <summary>The driver's name as QMP shows it: "file", "raw", "qcow2".</summary>
    public abstract string DriverName { get; }

    /// <summary>Whether the node refuses writes; only a reopen (<see cref="ReopenAsync"/>) changes it.</summary>
    public bool ReadOnly { get; private set; }

    /// <summary>Whether a reopen may make the node writable (QEMU's BDRV_O_ALLOW_RDWR): opened read-write, or read-only only as a backing file.</summary>
    public bool AllowWritableReopen { get; internal set; }

    /// <summary>The size the node presents to its parents, in bytes.</summary>
    public abstract long Length { get; }

    /// <summary>The file name QEMU shows for this node (for format nodes, their file's).</summary>
    public virtual string Filename => File?.Filename ?? "";

    /// <summary>Whether the node may be written: active, not read-only.</summary>
    public bool Writable => !ReadOnly && _activation == BlockActivation.Active;

    /// <summary>discard=unmap: discards and write-zeroes' unmap reach the driver; the graph clears it for nodes opened with QEMU's default discard=ignore.</summary>
    public bool DiscardUnmap { get; internal set; } = true;

    /// <summary>detect-zeroes for writes entering this node.</summary>
    public DetectZeroes DetectZeroes { get; internal set; }

    /// <summary>The end of the highest write into this node (query-blockstats' wr_highest_offset for nodes).</summary>
    public long WriteHighestOffset => Volatile.Read(ref _highestWrite);

    /// <summary>The node's activation state (migration hands images over by inactivating them).</summary>
    public BlockActivation Activation => _activation;

    /// <summary>Whether the format can have a backing file (qcow2), so the node can be a snapshot overlay.</summary>
    public virtual bool SupportsBacking => false;

    /// <summary>Whether writes with <see cref="BlockWriteFlags.Compressed"/> are supported (QEMU's bdrv_supports_compressed_writes).</summary>
    public virtual bool SupportsCompressedWrites => false;

    /// <summary>Why compressed writes cannot run on this host though the format takes them (a missing zlib), or null.</summary>
    public virtual string? CompressedWritesUnavailable => null;

    /// <summary>The protocol child ("file") of a format node.</summary>
    public BlockNode? File => Child("file");

    /// <summary>The backing child, if any.</summary>
    public BlockNode? Backing => Child("backing");

    /// <summary>The node's children, in the order they were attached.</summary>
    public IReadOnlyList<BlockChild> Children
    {
        get
        {
            lock (_children)
                return [.. _children];
        }
    }

    /// <summary>The edges from parent nodes to this node.</summary>
    public IReadOnlyList<BlockChild> ParentLinks
    {
        get
        {
            lock (_children)
                return [.. _parentLinks];
        }
    }

    /// <summary>The users outside the graph (device backends, jobs) attached to this node.</summary>
    public IReadOnlyList<IBlockParent> Users
    {
        get
        {
            lock (_children)
                return [.. _users];
        }
    }

    /// <summary>Whether anything (a parent node, a device, a job) uses this node.</summary>
    public bool InUse
    {
        get
        {
            lock (_children)
                return _parentLinks.Count > 0 || _users.Count > 0;
        }
    }

    /// <summary>Requests currently running in this node.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>How many drained sections cover this node.</summary>
    public int QuiesceCounter => Volatile.Read(ref _quiesce);

    /// <summary>The child called <paramref name="role"/>, or null.</summary>
    public BlockNode? Child(string role)
    {
        lock (_children)
        {
            foreach (var child in _children)
            {
                if (child.Role == role)
                    return child.Node;
            }
        }
        return null;
    }

    /// <summary>Reads <paramref name="buffer"/>.Length bytes at <paramref name="offset"/>.</summary>
    public async ValueTask ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, buffer.Length);
        Enter();
        try
        {
            await ReadCoreAsync(offset, buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags = BlockWriteFlags.None, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, data.Length);
        CheckWritable();
        if ((flags & BlockWriteFlags.Compressed) != 0 && !SupportsCompressedWrites)
            throw new BlockException(BlockError.NotSupported, $"Compression is not supported for node '{NodeName}'");
        Enter();
        try
        {
            if (_writeNotifiers is null)
                await WriteDataAsync(offset, data, flags, cancellationToken).ConfigureAwait(false);
            else
                await NotifiedWriteAsync(new(BlockWriteKind.Write, offset, data.Length, data), () => WriteDataAsync(offset, data, flags, cancellationToken), cancellationToken).ConfigureAwait(false);
            NoteWrite(offset + data.Length);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>Makes <paramref name="length"/> bytes at <paramref name="offset"/> read as zeroes, deallocating them if <see cref="BlockWriteFlags.MayUnmap"/> allows.</summary>
    public async ValueTask WriteZeroesAsync(long offset, long length, BlockWriteFlags flags = BlockWriteFlags.None, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, length);
        CheckWritable();
        Enter();
        try
        {
            if (_writeNotifiers is null)
                await WriteZeroesCoreAsync(offset, length, ZeroFlags(flags), cancellationToken).ConfigureAwait(false);
            else
                await NotifiedWriteAsync(new(BlockWriteKind.WriteZeroes, offset, length, default), () => WriteZeroesCoreAsync(offset, length, ZeroFlags(flags), cancellationToken), cancellationToken).ConfigureAwait(false);
            NoteWrite(offset + length);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>Tells the node the range's contents are no longer needed (it may read back as anything, usually zeroes).</summary>
    public async ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, length);
        CheckWritable();
        // discard=ignore (the default) drops discards here, as QEMU does without BDRV_O_UNMAP.
        if (!DiscardUnmap)
            return;
        Enter();
        try
        {
            if (_writeNotifiers is null)
                await DiscardCoreAsync(offset, length, cancellationToken).ConfigureAwait(false);
            else
                await NotifiedWriteAsync(new(BlockWriteKind.Discard, offset, length, default), () => DiscardCoreAsync(offset, length, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>Makes every completed write stable, down to the host disk.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        Enter();
        try
        {
            // An inactive node has nothing unwritten (inactivation flushed it).
            if (_activation == BlockActivation.Active && !ReadOnly)
                await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>Changes the node's size (block_resize); growing reads back zeroes.</summary>
    public async ValueTask TruncateAsync(long length, CancellationToken cancellationToken = default)
    {
        if (length < 0)
            throw new BlockException(BlockError.Invalid, "Parameter 'size' expects a >0 size");
        CheckWritable();
        Enter();
        try
        {
            if (_writeNotifiers is null)
                await TruncateCoreAsync(length, cancellationToken).ConfigureAwait(false);
            else
                await NotifiedWriteAsync(new(BlockWriteKind.Truncate, length, 0, default), () => TruncateCoreAsync(length, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>The status of the run of bytes starting at <paramref name="offset"/>, at most <paramref name="length"/> long.</summary>
    public async ValueTask<BlockStatus> GetStatusAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, length);
        if (length == 0)
            return new BlockStatus(0, BlockStatusFlags.None);
        Enter();
        try
        {
            var status = await GetStatusCoreAsync(offset, length, cancellationToken).ConfigureAwait(false);
            return status.Length <= 0 || status.Length > length ? status with { Length = length } : status;
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>QEMU's ImageInfo for this node.</summary>
    public virtual BlockImageInfo DescribeImage() => new()
    {
        Filename = Filename,
        Format = DriverName,
        VirtualSize = Length,
        ActualSize = File?.DescribeImage().ActualSize,
    };

    /// <summary>Reads; the range lies inside the node.</summary>
    protected abstract ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Writes; the range lies inside the node, which is writable.</summary>
    protected abstract ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken);

    /// <summary>Writes zeroes; by default, as plain writes of a zero buffer.</summary>
    protected virtual async ValueTask WriteZeroesCoreAsync(long offset, long length, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        var zeroes = new byte[(int)Math.Min(length, 1 << 20)];
        while (length > 0)
        {
            var chunk = (int)Math.Min(length, zeroes.Length);
            await WriteCoreAsync(offset, zeroes.AsMemory(0, chunk), flags & BlockWriteFlags.Fua, cancellationToken).ConfigureAwait(false);
            offset += chunk;
            length -= chunk;
        }
    }

    /// <summary>Discards; by default nothing happens (discard is advisory).</summary>
    protected virtual ValueTask DiscardCoreAsync(long offset, long length, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Flushes the driver's caches and then its children.</summary>
    protected abstract ValueTask FlushCoreAsync(CancellationToken cancellationToken);

    /// <summary>Resizes; by default the driver cannot.</summary>
    protected virtual ValueTask TruncateCoreAsync(long length, CancellationToken cancellationToken) =>
        throw new BlockException(BlockError.NotSupported, $"Image format driver '{DriverName}' does not support resizing");

    /// <summary>Reports a range's status; by default everything is data in this node.</summary>
    protected virtual ValueTask<BlockStatus> GetStatusCoreAsync(long offset, long length, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new BlockStatus(length, BlockStatusFlags.Data | BlockStatusFlags.Allocated));

    /// <summary>Whether writes past the end grow the node and reads past it return zeroes (protocol nodes over host files).</summary>
    protected virtual bool CanGrow => false;

    // detect-zeroes turns an all-zero write into a write-zeroes.
    private ValueTask WriteDataAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken) =>
        DetectZeroes != DetectZeroes.Off && data.Length > 0 && !data.Span.ContainsAnyExcept((byte)0)
            ? WriteZeroesCoreAsync(offset, data.Length, ZeroFlags((flags & ~BlockWriteFlags.Compressed) | (DetectZeroes == DetectZeroes.Unmap ? BlockWriteFlags.MayUnmap : 0)), cancellationToken)
            : WriteCoreAsync(offset, data, flags, cancellationToken);

    private void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || (!CanGrow && offset > Length - length))
            throw new BlockException(BlockError.Invalid, $"request at offset {offset} length {length} lies outside node '{NodeName}' ({Length} bytes)");
    }

    // Without discard=unmap a write-zeroes may not deallocate.
    private BlockWriteFlags ZeroFlags(BlockWriteFlags flags) => DiscardUnmap ? flags : flags & ~BlockWriteFlags.MayUnmap;

    private void NoteWrite(long end)
    {
        long current;
        while (end > (current = Volatile.Read(ref _highestWrite)) && Interlocked.CompareExchange(ref _highestWrite, end, current) != current)
        {
        }
    }

    private void CheckWritable()
    {
        if (ReadOnly)
            throw new BlockException(BlockError.Permission, $"Node '{NodeName}' is read-only");
        if (_activation != BlockActivation.Active)
            throw new BlockException(BlockError.Permission, $"Node '{NodeName}' is inactive");
    }

    private void Enter() => Interlocked.Increment(ref _inFlight);

    private void Leave()
    {
        if (Interlocked.Decrement(ref _inFlight) != 0)
            return;
        TaskCompletionSource? idle;
        lock (_idleLock)
        {
            idle = _idle;
            _idle = null;
        }
        idle?.TrySetResult();
    }

    /// <summary>Completes when no request is in flight in this node (at some moment after the call).</summary>
    internal Task WaitIdleAsync()
    {
        lock (_idleLock)
        {
            if (Volatile.Read(ref _inFlight) == 0)
                return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    internal void AddChild(string role, BlockNode node)
    {
        var edge = new BlockChild(this, role, node);
        lock (_children)
            _children.Add(edge);
        lock (node._children)
            node._parentLinks.Add(edge);
    }

    internal void RemoveChild(BlockNode node)
    {
        BlockChild? edge;
        lock (_children)
        {
            edge = _children.Find(c => c.Node == node);
            if (edge is not null)
                _children.Remove(edge);
        }
        if (edge is not null)
        {
            lock (node._children)
                node._parentLinks.Remove(edge);
        }
    }

    /// <summary>Replaces the child called <paramref name="role"/> (null removes it); used when a chain is re-pointed.</summary>
    internal void ReplaceChild(string role, BlockNode? node)
    {
        if (Child(role) is { } old)
            RemoveChild(old);
        if (node is not null)
            AddChild(role, node);
    }

    internal void AddUser(IBlockParent user)
    {
        lock (_children)
            _users.Add(user);
    }

    internal void RemoveUser(IBlockParent user)
    {
        lock (_children)
            _users.Remove(user);
    }

    internal void Quiesce() => Interlocked.Increment(ref _quiesce);

    internal void Unquiesce() => Interlocked.Decrement(ref _quiesce);

    internal void SetActivation(BlockActivation activation) => _activation = activation;
}
