using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using static Qmp.Monitor.Transports.SocketNative;

namespace Qmp.Monitor.Transports;

/// <summary>
/// A connected client socket that its session reads from a thread of its own. A read blocks in
/// poll(2), so when a command arrives the kernel wakes that thread directly; through the runtime's
/// socket engine it would wake the epoll thread, which then queues the read's continuation to the
/// thread pool (two wake-ups instead of one: about half of a query-status round trip). Writes never
/// block: what a full socket buffer does not take is sent asynchronously, so a client that stops
/// reading stalls only its own session.
/// </summary>
/// <remarks>
/// Reads use recvmsg(2) because .NET's receive calls drop ancillary data: on a unix socket,
/// descriptors passed with SCM_RIGHTS (QMP <c>getfd</c>) are kept for <see cref="TakeReceivedFd"/>.
/// Like QEMU's socket chardev, a batch of descriptors replaces (and closes) a batch not yet taken.
/// </remarks>
internal sealed class SocketStream(Socket socket) : Stream
{
    // Pinned so the kernel can write into them through the addresses in the msghdr.
    private readonly byte[] _buffer = GC.AllocateArray<byte>(16 * 1024, pinned: true);
    private readonly byte[] _control = GC.AllocateArray<byte>(512, pinned: true);
    private readonly IoVec[] _iov = GC.AllocateArray<IoVec>(1, pinned: true);
    private readonly Lock _fdsLock = new();
    private List<SafeFileHandle> _pending = [];

    /// <summary>The socket (for shutdown and peer names).</summary>
    public Socket Socket { get; } = socket;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException("A socket has no length.");

    public override long Position
    {
        get => throw new NotSupportedException("A socket has no position.");
        set => throw new NotSupportedException("A socket has no position.");
    }

    /// <summary>
    /// Takes the first descriptor of the last batch received and closes the others of that batch
    /// (QEMU keeps only the first); null when none is waiting.
    /// </summary>
    public SafeFileHandle? TakeReceivedFd()
    {
        List<SafeFileHandle> batch;
        lock (_fdsLock)
        {
            if (_pending.Count == 0)
                return null;
            batch = _pending;
            _pending = [];
        }
        foreach (var extra in batch.Skip(1))
            extra.Dispose();
        return batch[0];
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Blocks until data or end of input arrives; 0 means the peer closed (or input was shut down).</summary>
    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
            return 0;
        var handle = Socket.SafeHandle;
        var added = false;
        // The reference keeps the descriptor number from being closed and reused while we wait on it.
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = handle.DangerousGetHandle();
            while (true)
            {
                var read = TryReceive(fd, Math.Min(buffer.Length, _buffer.Length), out var error);
                if (read >= 0)
                {
                    _buffer.AsSpan(0, read).CopyTo(buffer);
                    return read;
                }
                if (error != EAgain && error != EIntr)
                    throw new IOException($"Unable to read from the QMP client: {Marshal.GetPInvokeErrorMessage(error)}", new SocketException(error));
                var poll = new PollFd { Fd = (int)fd, Events = PollIn };
                if (Poll(ref poll, 1, -1) < 0 && (error = Marshal.GetLastPInvokeError()) != EIntr)
                    throw new IOException($"Unable to wait for the QMP client: {Marshal.GetPInvokeErrorMessage(error)}", new SocketException(error));
            }
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    /// <summary>Reads on the calling thread (the session's reader thread); completes synchronously.</summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<int>(cancellationToken);
        try
        {
            return ValueTask.FromResult(Read(buffer.Span));
        }
        catch (IOException e)
        {
            return ValueTask.FromException<int>(e);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Sends what the socket takes now; the rest, if any, asynchronously.</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var sent = SendNow(buffer.Span);
        return sent == buffer.Length ? ValueTask.CompletedTask : new ValueTask(SendRestAsync(buffer[sent..], cancellationToken));
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A socket cannot seek.");

    public override void SetLength(long value) => throw new NotSupportedException("A socket has no length.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Wakes a read still waiting in poll(2); closing the descriptor alone would not.
            try
            {
                Socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already disconnected.
            }
            Socket.Dispose();
            lock (_fdsLock)
            {
                foreach (var fd in _pending)
                    fd.Dispose();
                _pending = [];
            }
        }
        base.Dispose(disposing);
    }

    /// <summary>One non-blocking recvmsg into <see cref="_buffer"/>: bytes read (0 at EOF), or -1 with errno.</summary>
    private int TryReceive(nint fd, int length, out int error)
    {
        _iov[0] = new IoVec(Marshal.UnsafeAddrOfPinnedArrayElement(_buffer, 0), (nuint)length);
        var header = new MsgHdr
        {
            Iov = Marshal.UnsafeAddrOfPinnedArrayElement(_iov, 0),
            IovLen = 1,
            Control = Marshal.UnsafeAddrOfPinnedArrayElement(_control, 0),
            ControlLen = (nuint)_control.Length,
        };
        var read = (int)RecvMsg(fd, ref header, MsgDontWait | MsgCmsgCloexec);
        error = read < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (read >= 0 && header.ControlLen > 0)
            CollectFds((int)header.ControlLen);
        return read;
    }

    private void CollectFds(int controlLength)
    {
        var batch = new List<SafeFileHandle>();
        for (var offset = 0; offset + CmsgHeader <= controlLength;)
        {
            var length = (int)BitConverter.ToUInt64(_control, offset);
            var level = BitConverter.ToInt32(_control, offset + 8);
            var type = BitConverter.ToInt32(_control, offset + 12);
            if (length < CmsgHeader || offset + length > controlLength)
                break;
            if (level == SolSocket && type == ScmRights)
            {
                for (var at = offset + CmsgHeader; at + 4 <= offset + length; at += 4)
                    batch.Add(new SafeFileHandle(BitConverter.ToInt32(_control, at), ownsHandle: true));
            }
            offset += (length + 7) & ~7;
        }
        if (batch.Count == 0)
            return;
        List<SafeFileHandle> replaced;
        lock (_fdsLock)
        {
            replaced = _pending;
            _pending = batch;
        }
        foreach (var fd in replaced)
            fd.Dispose();
    }

    private int SendNow(ReadOnlySpan<byte> data)
    {
        var handle = Socket.SafeHandle;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = handle.DangerousGetHandle();
            var total = 0;
            while (total < data.Length)
            {
                var sent = Send(fd, data[total..], data.Length - total, MsgDontWait | MsgNoSignal);
                if (sent >= 0)
                {
                    total += (int)sent;
                    continue;
                }
                var error = Marshal.GetLastPInvokeError();
                if (error == EAgain)
                    break;
                if (error != EIntr)
                    throw new IOException($"Unable to write to the QMP client: {Marshal.GetPInvokeErrorMessage(error)}", new SocketException(error));
            }
            return total;
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    private async Task SendRestAsync(ReadOnlyMemory<byte> rest, CancellationToken cancellationToken)
    {
        try
        {
            while (!rest.IsEmpty)
                rest = rest[await Socket.SendAsync(rest, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];
        }
        catch (SocketException e)
        {
            throw new IOException($"Unable to write to the QMP client: {e.Message}", e);
        }
    }
}
