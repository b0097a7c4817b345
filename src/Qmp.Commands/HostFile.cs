using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Qmp.Schema.Runtime;

namespace Qmp.Commands;

/// <summary>Host files that commands write (pmemsave, memsave), opened as QEMU's fopen "wb" does, with its error texts.</summary>
internal static class HostFile
{
    private const int OWrOnly = 1, OCreat = 0x40, OTrunc = 0x200, OCloexec = 0x80000;

    /// <summary>
    /// Creates or truncates <paramref name="path"/> (mode 0666 less the umask). Fails with QEMU's
    /// <c>Could not open 'PATH': strerror</c>; .NET's exceptions do not carry the errno text.
    /// </summary>
    public static FileStream Create(string path)
    {
        var fd = Open(path, OWrOnly | OCreat | OTrunc | OCloexec, 0x1B6);
        if (fd < 0)
            throw QmpErrorException.Generic($"Could not open '{path}': {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        // Unbuffered: callers write large chunks, and a write error must surface at the write.
        return new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write, bufferSize: 0);
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);
}
