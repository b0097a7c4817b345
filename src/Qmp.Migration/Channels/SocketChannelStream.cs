using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Qmp.Migration.Channels;

/// <summary>
/// A migration socket's data as a stream, with recv/send made directly on the descriptor and poll(2) when it
/// would block. .NET keeps a socket non-blocking once an async call used it (connect, accept), and its
/// synchronous calls then wait through the runtime's event loop: measured here, 1 GiB over a unix socket took
/// twice as long through NetworkStream. Shutting the socket down (cancel) wakes a waiting call, which then
/// fails. The socket stays owned by the connection; the descriptor is referenced during each call, so a
/// concurrent close cannot hand its number to another file.
/// </summary>
internal sealed unsafe class SocketChannelStream(Socket socket) : System.IO.Stream
{
    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanTimeout => true;

    /// <summary>Milliseconds a read may wait for data, or <see cref="Timeout.Infinite"/>.</summary>
    public override int ReadTimeout { get; set; } = Timeout.Infinite;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
            return 0;
        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            fixed (byte* data = buffer)
            {
                while (true)
                {
                    // SAFETY: data points at buffer.Length writable bytes, pinned for the call.
                    var read = SocketNative.Recv(fd, data, (nuint)buffer.Length, SocketNative.MsgDontWait);
                    if (read >= 0)
                        return (int)read;
                    Retry(fd, SocketNative.PollIn, ReadTimeout, "read from");
                }
            }
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var handle = socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            fixed (byte* data = buffer)
            {
                var done = 0;
                while (done < buffer.Length)
                {
                    // SAFETY: data + done .. data + buffer.Length lies inside the pinned buffer.
                    var sent = SocketNative.Send(fd, data + done, (nuint)(buffer.Length - done), SocketNative.MsgNoSignal | SocketNative.MsgDontWait);
                    if (sent >= 0)
                        done += (int)sent;
                    else
                        Retry(fd, SocketNative.PollOut, Timeout.Infinite, "write to");
                }
            }
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    /// <inheritdoc/>
    public override void Flush()
    {
        // Nothing is buffered here.
    }

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    // After a failed call: returns to retry it (interrupted, or ready after waiting), else throws.
    private static void Retry(int fd, short events, int timeout, string what)
    {
        var error = Marshal.GetLastPInvokeError();
        if (error == SocketNative.EIntr)
            return;
        if (error != SocketNative.EAgain)
            throw new IOException(Marshal.GetPInvokeErrorMessage(error));
        var poll = new SocketNative.PollFd { Fd = fd, Events = events };
        var ready = SocketNative.Poll(&poll, 1, timeout);
        if (ready == 0)
            throw new IOException($"timed out waiting to {what} the socket");
        if (ready < 0 && Marshal.GetLastPInvokeError() != SocketNative.EIntr)
            throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
    }
}
