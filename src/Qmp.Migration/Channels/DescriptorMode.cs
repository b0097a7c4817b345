using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmp.Migration.Channels;

/// <summary>
/// Blocking descriptors for the channels that read and write with plain blocking calls: one handed over with
/// <c>fd:</c> (a non-blocking socket or pipe, what most senders, .NET's among them, pass, would fail them with
/// EAGAIN as soon as the other side lags), and the migration's own sockets.
/// </summary>
internal static partial class DescriptorMode
{
    private const int FGetfl = 3;
    private const int FSetfl = 4;
    private const int ONonblock = 0x800;
    private const int FDupfdCloexec = 1030;

    /// <summary>Clears O_NONBLOCK on <paramref name="handle"/>; a descriptor whose flags cannot be read is left as it is.</summary>
    public static void MakeBlocking(SafeFileHandle handle)
    {
        var fd = (int)handle.DangerousGetHandle();
        var flags = Fcntl(fd, FGetfl, 0);
        if (flags >= 0 && (flags & ONonblock) != 0)
            _ = Fcntl(fd, FSetfl, flags & ~ONonblock);
    }

    /// <summary>
    /// A blocking duplicate of a connected socket's descriptor, as a file handle the caller owns: the migration's
    /// data then flows through plain read/write calls. .NET keeps a socket non-blocking once an async call used
    /// it (connect, accept) and its synchronous calls wait through the runtime's event loop, which measured half
    /// the speed for 1 GiB over a unix socket. The duplicate shares the socket, so shutting the socket down
    /// (cancel) still ends a read or write in progress; closing the socket cannot hand its number to another file
    /// while the duplicate is in use. O_NONBLOCK belongs to the shared file description, so the socket turns
    /// blocking too: after this only Shutdown, Poll and Dispose may be called on it, which do not mind.
    /// </summary>
    /// <exception cref="IOException">The descriptor cannot be duplicated.</exception>
    public static SafeFileHandle DuplicateBlocking(System.Net.Sockets.Socket socket)
    {
        var original = socket.SafeHandle;
        var added = false;
        int fd;
        try
        {
            original.DangerousAddRef(ref added);
            fd = Fcntl((int)original.DangerousGetHandle(), FDupfdCloexec, 0);
        }
        finally
        {
            if (added)
                original.DangerousRelease();
        }
        if (fd < 0)
            throw new IOException(Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        MakeBlocking(handle);
        return handle;
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
