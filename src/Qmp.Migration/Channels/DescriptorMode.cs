using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmp.Migration.Channels;

/// <summary>
/// Puts a descriptor handed over with <c>fd:</c> into blocking mode: the channel reads and writes it with plain
/// blocking calls, and a non-blocking socket or pipe (what most senders, .NET's among them, pass) would fail
/// them with EAGAIN as soon as the other side lags.
/// </summary>
internal static partial class DescriptorMode
{
    private const int FGetfl = 3;
    private const int FSetfl = 4;
    private const int ONonblock = 0x800;

    /// <summary>Clears O_NONBLOCK on <paramref name="handle"/>; a descriptor whose flags cannot be read is left as it is.</summary>
    public static void MakeBlocking(SafeFileHandle handle)
    {
        var fd = (int)handle.DangerousGetHandle();
        var flags = Fcntl(fd, FGetfl, 0);
        if (flags >= 0 && (flags & ONonblock) != 0)
            _ = Fcntl(fd, FSetfl, flags & ~ONonblock);
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
