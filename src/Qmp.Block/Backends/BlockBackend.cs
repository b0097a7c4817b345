namespace Qmp.Block.Backends;

/// <summary>
/// What a device frontend holds (QEMU's BlockBackend): a root node, the device attached to it, the
/// error policy, I/O status and accounting. Every guest request enters the graph here, and here it is
/// held while a drained section covers the root, so a device can never slip a request into a drained
/// section even if it forgot to stop (it should stop: see <see cref="IBlockDevicePort"/>).
/// </summary>
public sealed class BlockBackend : IBlockParent
{
    private readonly object _gateLock = new();
    private BlockNode? _root;
    private IBlockDevicePort? _device;
    private TaskCompletionSource? _gate;
    private int _quiesce;
    private int _inFlight;

    /// <summary>Creates a backend; <paramref name="name"/> is the -drive id, or "" for the anonymous backend of a -device drive=NODE.</summary>
    public BlockBackend(string name) => Name = name;

    /// <summary>The legacy drive name (query-block's <c>device</c>), "" when anonymous.</summary>
    public string Name { get; }

    /// <summary>The root node, null when no medium is inserted.</summary>
    public BlockNode? Root => _root;

    /// <summary>The device using this backend.</summary>
    public IBlockDevicePort? Device => _device;

    /// <summary>The guest's view is read-only (the device or the drive said so).</summary>
    public bool ReadOnly { get; set; }

    /// <summary>rerror: what a failed read leads to (default report).</summary>
    public BlockErrorPolicy ReadErrorPolicy { get; set; } = BlockErrorPolicy.Report;

    /// <summary>werror: what a failed write leads to (default enospc).</summary>
    public BlockErrorPolicy WriteErrorPolicy { get; set; } = BlockErrorPolicy.Enospc;

    /// <summary>The I/O status query-block reports; reset to ok when the machine continues.</summary>
    public BlockIoStatus IoStatus { get; private set; }

    /// <summary>Request counters for query-blockstats.</summary>
    public BlockAccounting Stats { get; } = new();

    /// <summary>Requests the device issued that have not completed.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Whether a drained section holds this backend's requests.</summary>
    public bool Quiesced => Volatile.Read(ref _quiesce) > 0;

    /// <inheritdoc/>
    public string Description => Name.Length > 0 ? Name : _device?.QomPath ?? "(anonymous backend)";

    /// <summary>A request failed and the policy chose an action; the machine stops on <see cref="BlockErrorAction.Stop"/> and emits BLOCK_IO_ERROR.</summary>
    public event Action<BlockIoErrorEventArgs>? IoError;

    /// <summary>Attaches <paramref name="device"/>; a backend serves one device (QEMU: "Drive 'x' is already in use by 'y'" style conflicts are the caller's text).</summary>
    public void AttachDevice(IBlockDevicePort device)
    {
        if (_device is not null)
            throw new InvalidOperationException($"backend {Description} already has a device");
        _device = device;
    }

    /// <summary>Detaches the device (unrealize); requests it had in flight have completed by then.</summary>
    public void DetachDevice() => _device = null;

    /// <summary>Reads through the root.</summary>
    public async ValueTask ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var root = await EnterAsync(cancellationToken).ConfigureAwait(false);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            await root.ReadAsync(offset, buffer, cancellationToken).ConfigureAwait(false);
            failed = false;
        }
        finally
        {
            Stats.Done(BlockRequestKind.Read, buffer.Length, start, failed);
            Leave();
        }
    }

    /// <summary>Writes through the root.</summary>
    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags = BlockWriteFlags.None, CancellationToken cancellationToken = default)
    {
        var root = await EnterAsync(cancellationToken).ConfigureAwait(false);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            CheckWritable();
            await root.WriteAsync(offset, data, flags, cancellationToken).ConfigureAwait(false);
            failed = false;
            Stats.Wrote(offset + data.Length);
        }
        finally
        {
            Stats.Done(BlockRequestKind.Write, data.Length, start, failed);
            Leave();
        }
    }

    /// <summary>Writes zeroes through the root (accounted as a write, as QEMU does).</summary>
    public async ValueTask WriteZeroesAsync(long offset, long length, BlockWriteFlags flags = BlockWriteFlags.None, CancellationToken cancellationToken = default)
    {
        var root = await EnterAsync(cancellationToken).ConfigureAwait(false);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            CheckWritable();
            await root.WriteZeroesAsync(offset, length, flags, cancellationToken).ConfigureAwait(false);
            failed = false;
            Stats.Wrote(offset + length);
        }
        finally
        {
            Stats.Done(BlockRequestKind.Write, length, start, failed);
            Leave();
        }
    }

    /// <summary>Discards through the root.</summary>
    public async ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        var root = await EnterAsync(cancellationToken).ConfigureAwait(false);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            CheckWritable();
            await root.DiscardAsync(offset, length, cancellationToken).ConfigureAwait(false);
            failed = false;
        }
        finally
        {
            Stats.Done(BlockRequestKind.Unmap, length, start, failed);
            Leave();
        }
    }

    /// <summary>Flushes the root.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        var root = await EnterAsync(cancellationToken).ConfigureAwait(false);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            await root.FlushAsync(cancellationToken).ConfigureAwait(false);
            failed = false;
        }
        finally
        {
            Stats.Done(BlockRequestKind.Flush, 0, start, failed);
            Leave();
        }
    }

    /// <summary>
    /// Applies rerror/werror to a failed request (QEMU's blk_get_error_action + blk_error_action): sets the
    /// I/O status on stop and raises <see cref="IoError"/>. The device completes or keeps the request accordingly.
    /// </summary>
    public BlockErrorAction HandleError(bool isRead, BlockException error)
    {
        var noSpace = error.Error == BlockError.NoSpace;
        var action = (isRead ? ReadErrorPolicy : WriteErrorPolicy) switch
        {
            BlockErrorPolicy.Ignore => BlockErrorAction.Ignore,
            BlockErrorPolicy.Stop => BlockErrorAction.Stop,
            BlockErrorPolicy.Enospc when noSpace => BlockErrorAction.Stop,
            _ => BlockErrorAction.Report,
        };
        if (action == BlockErrorAction.Stop && IoStatus == BlockIoStatus.Ok)
            IoStatus = noSpace ? BlockIoStatus.NoSpace : BlockIoStatus.Failed;
        IoError?.Invoke(new BlockIoErrorEventArgs(this, isRead, action, noSpace, error.Reason));
        return action;
    }

    /// <summary>The machine continues: the I/O status goes back to ok (QEMU resets it on cont).</summary>
    public void ResetIoStatus() => IoStatus = BlockIoStatus.Ok;

    /// <inheritdoc/>
    public void DrainedBegin()
    {
        var first = false;
        lock (_gateLock)
        {
            if (_quiesce++ == 0)
            {
                _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                first = true;
            }
        }
        // Like DrainedEnd, only the outermost section reaches the device (QEMU's blk_root_drained_begin).
        if (first)
            _device?.DrainedBegin();
    }

    /// <inheritdoc/>
    public void DrainedEnd()
    {
        TaskCompletionSource? gate = null;
        lock (_gateLock)
        {
            if (_quiesce > 0 && --_quiesce == 0)
            {
                gate = _gate;
                _gate = null;
            }
        }
        gate?.TrySetResult();
        if (gate is not null)
            _device?.DrainedEnd();
    }

    /// <inheritdoc/>
    public bool DrainedPoll() => Volatile.Read(ref _inFlight) > 0 || (_device?.DrainedPoll() ?? false);

    internal void Insert(BlockNode root)
    {
        _root = root;
        root.AddUser(this);
    }

    internal void Eject()
    {
        _root?.RemoveUser(this);
        _root = null;
    }

    // Counted in flight before the gate is checked, so a drain that saw zero in flight is sure every
    // later request sees the gate closed.
    private async ValueTask<BlockNode> EnterAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Interlocked.Increment(ref _inFlight);
            Task? wait;
            lock (_gateLock)
                wait = _gate?.Task;
            if (wait is null)
                return _root ?? Fail(new BlockException(BlockError.Io, $"No medium inserted in {Description}"));
            Leave();
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private BlockNode Fail(BlockException error)
    {
        Leave();
        throw error;
    }

    private void Leave() => Interlocked.Decrement(ref _inFlight);

    private void CheckWritable()
    {
        if (ReadOnly)
            throw new BlockException(BlockError.Permission, $"Block device {Description} is read-only");
    }
}
