using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmp.TestSupport;

/// <summary>Unix sockets for descriptor tests: a connected pair, and a socket's descriptor as getfd would hold it. Shared as a linked source file.</summary>
internal static class SocketPair
{
    /// <summary>Two connected unix stream sockets, made through a listener at <paramref name="path"/>.</summary>
    public static async Task<(Socket A, Socket B)> CreateAsync(string path)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var a = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await a.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return (a, await listener.AcceptAsync());
    }

    /// <summary>A duplicate of <paramref name="socket"/>'s descriptor, owned by the caller, as one received with SCM_RIGHTS.</summary>
    public static SafeFileHandle Duplicate(Socket socket)
    {
        var fd = Dup((int)socket.SafeHandle.DangerousGetHandle());
        if (fd < 0)
            throw new InvalidOperationException($"dup failed: errno {Marshal.GetLastPInvokeError()}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    [DllImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static extern int Dup(int fd);
}
