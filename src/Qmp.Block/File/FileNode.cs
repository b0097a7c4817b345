using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmp.Block.File;

/// <summary>
/// The <c>file</c> protocol driver (QEMU's file-posix): a host file or block device, read and written
/// with positional I/O on the thread pool, O_DIRECT with <c>cache.direct</c>, holes and zero ranges
/// through fallocate, allocation status through SEEK_DATA/SEEK_HOLE, and QEMU-compatible image locks
/// held while the node is active.
/// </summary>
/// <remarks>
/// Like QEMU's, the node grows when written past its end and reads zeroes past it, so format drivers can
/// allocate by writing. With O_DIRECT, requests that are not aligned to <see cref="DirectAlignment"/> go
/// through an aligned bounce buffer; unaligned writes read-modify-write under a lock so they cannot race.
/// </remarks>
public sealed class FileNode : BlockNode
{
    /// <summary>The alignment O_DIRECT requests use (covers 512-byte and 4 KiB logical sectors).</summary>
    public const int DirectAlignment = 4096;

    // Buffered writes up to this size are made on the caller's thread.
    private const int SyncWriteLimit = 4096;

    private SafeFileHandle _handle;
    private readonly string _path;
    private readonly bool _direct;
    private readonly bool _locking;
    private readonly bool _noFlush;
    private readonly bool _forceShare;
    private readonly SemaphoreSlim _unalignedWrites = new(1, 1);
    private long _length;
    private long _discardsSucceeded;
    private long _discardsFailed;
    private long _discardedBytes;

    private FileNode(SafeFileHandle handle, string path, bool readOnly, bool direct, bool locking, bool noFlush, bool forceShare)
        : base(readOnly)
    {
        _forceShare = forceShare;
        _handle = handle;
        _path = path;
        _direct = direct;
        _locking = locking;
        _noFlush = noFlush;
        _length = RandomAccess.GetLength(handle);
    }

    /// <inheritdoc/>
    public override string DriverName => "file";

    /// <inheritdoc/>
    public override long Length => Volatile.Read(ref _length);

    /// <inheritdoc/>
    public override string Filename => _path;

    /// <summary>Whether requests bypass the host page cache (O_DIRECT).</summary>
    public bool Direct => _direct;

    /// <summary>Whether flushes are skipped (<c>cache.no-flush</c>).</summary>
    public bool NoFlush => _noFlush;

    /// <summary>Discards the host carried out (query-blockstats' discard-nb-ok).</summary>
    public long DiscardsSucceeded => Volatile.Read(ref _discardsSucceeded);

    /// <summary>Discards the host refused (discard-nb-failed).</summary>
    public long DiscardsFailed => Volatile.Read(ref _discardsFailed);

    /// <summary>Bytes the host discarded (discard-bytes-ok).</summary>
    public long DiscardedBytes => Volatile.Read(ref _discardedBytes);

    /// <inheritdoc/>
    protected override bool CanGrow => true;

    /// <summary>
    /// Opens <paramref name="path"/> (QEMU's error texts on failure) and, unless <paramref name="locking"/> is
    /// off or the node starts inactive, takes the image locks. With <paramref name="autoReadOnly"/> a file that
    /// cannot be opened for writing is opened read-only; <paramref name="forceShare"/> (read-only only) lets
    /// other processes write while we read.
    /// </summary>
    public static FileNode Open(string path, bool readOnly, bool direct = false, bool locking = true, bool noFlush = false, bool active = true,
        bool forceShare = false, bool autoReadOnly = false)
    {
        if (forceShare && !readOnly)
            throw new BlockException(BlockError.Invalid, "force-share=on can only be used with read-only images");
        var flags = NativeFile.OCloexec | (direct ? NativeFile.ODirect : 0);
        var fd = NativeFile.Open(path, flags | (readOnly ? NativeFile.ORdOnly : NativeFile.ORdWr), 0);
        if (fd < 0 && !readOnly && autoReadOnly && Marshal.GetLastPInvokeError() is NativeFile.Eacces or NativeFile.Erofs or NativeFile.Eperm)
        {
            readOnly = true;
            fd = NativeFile.Open(path, flags | NativeFile.ORdOnly, 0);
        }
        if (fd < 0)
            throw new BlockException(BlockError.Io, $"Could not open '{path}': {NativeFile.LastError()}");
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var node = new FileNode(handle, path, readOnly, direct, locking, noFlush, forceShare);
            if (active)
                node.Lock();
            else
                node.SetActivation(BlockActivation.Inactive);
            return node;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The host file under <paramref name="node"/>: the node itself or the first one down its protocol children.</summary>
    public static FileNode? Under(BlockNode node)
    {
        for (BlockNode? n = node; n is not null; n = n.File)
        {
            if (n is FileNode file)
                return file;
        }
        return null;
    }

    /// <inheritdoc/>
    public override BlockImageInfo DescribeImage() => new()
    {
        Filename = _path,
        Format = "file",
        // QEMU counts a file in 512-byte sectors, rounding a partial last sector up.
        VirtualSize = (Length + 511) / 512 * 512,
        ActualSize = NativeFile.AllocatedBytes(_handle) is var bytes and >= 0 ? bytes : null,
    };

    /// <inheritdoc/>
    protected override async ValueTask ReadCoreAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // Pinned until the host read is done, so the address checked is the one the kernel gets.
        using var pin = _direct ? buffer.Pin() : default;
        if (_direct && !IsAligned(offset, buffer.Length, pin))
        {
            await BounceReadAsync(offset, buffer, cancellationToken).ConfigureAwait(false);
            return;
        }
        await ReadFullyAsync(offset, buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async ValueTask WriteCoreAsync(long offset, ReadOnlyMemory<byte> data, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        using (var pin = _direct ? data.Pin() : default)
        {
            if (_direct && !IsAligned(offset, data.Length, pin))
                await BounceWriteAsync(offset, data, cancellationToken).ConfigureAwait(false);
            else
                await WriteHostAsync(offset, data, cancellationToken).ConfigureAwait(false);
        }
        GrowTo(offset + data.Length);
        if ((flags & BlockWriteFlags.Fua) != 0)
            await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override async ValueTask WriteZeroesCoreAsync(long offset, long length, BlockWriteFlags flags, CancellationToken cancellationToken)
    {
        var end = offset + length;
        // Inside the file, let the filesystem zero (or punch) the range; past the end, growing the file zeroes it.
        var inside = Math.Min(end, Length) - offset;
        if (inside > 0)
        {
            var mode = (flags & BlockWriteFlags.MayUnmap) != 0 ? NativeFile.FallocPunchHole | NativeFile.FallocKeepSize : NativeFile.FallocZeroRange;
            if (NativeFile.Fallocate(_handle, mode, offset, inside) != 0 && NativeFile.Fallocate(_handle, NativeFile.FallocZeroRange, offset, inside) != 0)
                await base.WriteZeroesCoreAsync(offset, inside, flags & BlockWriteFlags.Fua, cancellationToken).ConfigureAwait(false);
        }
        if (end > Length)
        {
            RandomAccess.SetLength(_handle, end);
            GrowTo(end);
        }
        if ((flags & BlockWriteFlags.Fua) != 0)
            await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    protected override ValueTask DiscardCoreAsync(long offset, long length, CancellationToken cancellationToken)
    {
        var inside = Math.Min(offset + length, Length) - offset;
        // Discard is advisory: a filesystem without hole punching just keeps the data.
        if (inside <= 0)
            return ValueTask.CompletedTask;
        if (NativeFile.Fallocate(_handle, NativeFile.FallocPunchHole | NativeFile.FallocKeepSize, offset, inside) == 0)
        {
            Interlocked.Increment(ref _discardsSucceeded);
            Interlocked.Add(ref _discardedBytes, inside);
        }
        else
        {
            Interlocked.Increment(ref _discardsFailed);
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    protected override ValueTask FlushCoreAsync(CancellationToken cancellationToken)
    {
        if (_noFlush)
            return ValueTask.CompletedTask;
        return new ValueTask(Task.Run(
            () =>
            {
                if (NativeFile.Fdatasync(_handle) != 0)
                    throw new BlockException(BlockError.Io, $"Could not flush '{_path}': {NativeFile.LastError()}");
            },
            cancellationToken));
    }

    /// <inheritdoc/>
    protected override ValueTask TruncateCoreAsync(long length, CancellationToken cancellationToken)
    {
        try
        {
            RandomAccess.SetLength(_handle, length);
        }
        catch (IOException e)
        {
            throw BlockException.FromHost(e, $"Failed to resize '{_path}'");
        }
        Volatile.Write(ref _length, length);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    protected override ValueTask<BlockStatus> GetStatusCoreAsync(long offset, long length, CancellationToken cancellationToken)
    {
        const BlockStatusFlags data = BlockStatusFlags.Data | BlockStatusFlags.Allocated | BlockStatusFlags.OffsetValid;
        var hole = BlockStatusFlags.Zero | BlockStatusFlags.Allocated | BlockStatusFlags.OffsetValid;
        if (offset >= Length)
            return ValueTask.FromResult(new BlockStatus(length, hole, offset));
        var nextData = NativeFile.Lseek(_handle, offset, NativeFile.SeekData);
        if (nextData < 0)
        {
            // ENXIO: no data from here to the end; anything else: the filesystem cannot tell, so it is all data.
            return Marshal.GetLastPInvokeError() == NativeFile.Enxio
                ? ValueTask.FromResult(new BlockStatus(length, hole, offset))
                : ValueTask.FromResult(new BlockStatus(length, data, offset));
        }
        if (nextData > offset)
            return ValueTask.FromResult(new BlockStatus(Math.Min(nextData - offset, length), hole, offset));
        var nextHole = NativeFile.Lseek(_handle, offset, NativeFile.SeekHole);
        var run = nextHole > offset ? nextHole - offset : length;
        return ValueTask.FromResult(new BlockStatus(Math.Min(run, length), data, offset));
    }

    /// <inheritdoc/>
    protected override async ValueTask InactivateCoreAsync(CancellationToken cancellationToken)
    {
        // What was written must be stable before another process takes the image over (the base contract).
        if (!ReadOnly)
            await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
        if (_locking)
            ImageLocks.Apply(_handle, _path, BlockPermissions.None, BlockPermissions.All);
    }

    /// <inheritdoc/>
    protected override ValueTask ActivateCoreAsync(CancellationToken cancellationToken)
    {
        Lock();
        Volatile.Write(ref _length, RandomAccess.GetLength(_handle));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    protected override async ValueTask ReopenCoreAsync(bool readOnly, CancellationToken cancellationToken)
    {
        if (readOnly)
        {
            // The descriptor stays; what changes is the claim other processes see (no more write or resize).
            await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
            Lock();
            return;
        }
        if (_forceShare)
            throw new BlockException(BlockError.Invalid, "force-share=on can only be used with read-only images");
        var fd = NativeFile.Open(_path, NativeFile.OCloexec | (_direct ? NativeFile.ODirect : 0) | NativeFile.ORdWr, 0);
        if (fd < 0)
            throw new BlockException(BlockError.Permission, $"Could not reopen file: {NativeFile.LastError()}");
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (_locking)
        {
            // Our own read-only claim would conflict with the new descriptor's write claim: it goes first.
            ImageLocks.Release(_handle);
            try
            {
                Lock(handle);
            }
            catch
            {
                handle.Dispose();
                ImageLocks.Apply(_handle, _path, BlockPermissions.ConsistentRead, BlockPermissions.ConsistentRead | BlockPermissions.WriteUnchanged);
                throw;
            }
        }
        var old = _handle;
        _handle = handle;
        old.Dispose();
    }

    /// <inheritdoc/>
    protected override ValueTask CloseCoreAsync()
    {
        _handle.Dispose();
        _unalignedWrites.Dispose();
        return ValueTask.CompletedTask;
    }

    // A writer needs write and resize (format drivers grow files) and lets nobody else have them; a
    // reader needs a consistent view, so it also refuses other writers: QEMU's defaults for a disk.
    private void Lock() => Lock(_handle);

    private void Lock(SafeFileHandle handle)
    {
        if (!_locking)
            return;
        var perms = ReadOnly ? BlockPermissions.ConsistentRead : BlockPermissions.ConsistentRead | BlockPermissions.Write | BlockPermissions.Resize;
        var shared = _forceShare ? BlockPermissions.All : BlockPermissions.ConsistentRead | BlockPermissions.WriteUnchanged;
        ImageLocks.Apply(handle, _path, perms, shared);
    }

    // O_DIRECT needs the file offset, the length and the memory aligned; the kernel refuses anything else with EINVAL.
    private static unsafe bool IsAligned(long offset, int length, MemoryHandle pin) =>
        offset % DirectAlignment == 0 && length % DirectAlignment == 0 && (nuint)pin.Pointer % DirectAlignment == 0;

    private void GrowTo(long end)
    {
        long current;
        while (end > (current = Volatile.Read(ref _length)) && Interlocked.CompareExchange(ref _length, end, current) != current)
        {
        }
    }

    private async ValueTask ReadFullyAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // What the page cache holds is copied at once on this thread (QEMU's worker threads would cost a round trip);
        // only the rest goes through the thread pool, where a read that waits for the disk blocks nobody.
        var done = _direct ? 0 : ReadCached(offset, buffer.Span);
        while (done < buffer.Length)
        {
            int n;
            try
            {
                n = await RandomAccess.ReadAsync(_handle, buffer[done..], offset + done, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw BlockException.FromHost(e, $"Could not read '{_path}'");
            }
            if (n == 0)
            {
                // Past the end of the file reads as zeroes, as in QEMU.
                buffer.Span[done..].Clear();
                return;
            }
            done += n;
        }
    }

    // preadv2(RWF_NOWAIT): the bytes from the page cache, stopping where the disk would have to be read.
    private unsafe int ReadCached(long offset, Span<byte> buffer)
    {
        var done = 0;
        // SAFETY: the span (maybe guest RAM) is pinned by fixed for the calls; each iovec covers only its unread rest.
        fixed (byte* start = buffer)
        {
            while (done < buffer.Length)
            {
                var iov = new NativeFile.IoVec { Base = start + done, Length = (nuint)(buffer.Length - done) };
                var n = NativeFile.Preadv2(_handle, &iov, 1, offset + done, NativeFile.RwfNowait);
                // EAGAIN (not cached), EOPNOTSUPP (no RWF_NOWAIT here), end of file: the ordinary path takes over.
                if (n <= 0)
                    break;
                done += (int)n;
            }
        }
        return done;
    }

    private async ValueTask WriteHostAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            // A small write into the page cache (a format driver's metadata update) costs microseconds: a trip through
            // the thread pool and back would cost more, and under a metadata lock every other writer would wait for it.
            // (ext4 refuses RWF_NOWAIT for buffered writes, so a page that must be read first blocks this thread, as it
            // would block the pool thread an asynchronous write runs on.)
            if (!_direct && data.Length <= SyncWriteLimit)
                RandomAccess.Write(_handle, data.Span, offset);
            else
                await RandomAccess.WriteAsync(_handle, data, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw BlockException.FromHost(e, $"Could not write '{_path}'");
        }
    }

    private async ValueTask BounceReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var start = offset / DirectAlignment * DirectAlignment;
        var end = (offset + buffer.Length + DirectAlignment - 1) / DirectAlignment * DirectAlignment;
        using var bounce = new AlignedBuffer((int)(end - start), DirectAlignment);
        await ReadFullyAsync(start, bounce.Memory, cancellationToken).ConfigureAwait(false);
        bounce.Memory.Slice((int)(offset - start), buffer.Length).CopyTo(buffer);
    }

    private async ValueTask BounceWriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var start = offset / DirectAlignment * DirectAlignment;
        var end = (offset + data.Length + DirectAlignment - 1) / DirectAlignment * DirectAlignment;
        using var bounce = new AlignedBuffer((int)(end - start), DirectAlignment);
        await _unalignedWrites.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ReadFullyAsync(start, bounce.Memory, cancellationToken).ConfigureAwait(false);
            data.CopyTo(bounce.Memory[(int)(offset - start)..]);
            await WriteHostAsync(start, bounce.Memory, cancellationToken).ConfigureAwait(false);
            // The aligned write may have padded the file past the data's end: cut it back.
            if (end > offset + data.Length && end > Length && RandomAccess.GetLength(_handle) == end)
                RandomAccess.SetLength(_handle, Math.Max(Length, offset + data.Length));
        }
        finally
        {
            _unalignedWrites.Release();
        }
    }
}
