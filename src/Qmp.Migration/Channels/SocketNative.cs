using System.Runtime.InteropServices;

namespace Qmp.Migration.Channels;

/// <summary>The libc calls the migration's socket data path makes directly (see <see cref="SocketChannelStream"/>).</summary>
internal static unsafe partial class SocketNative
{
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int MsgDontWait = 0x40;
    public const int MsgNoSignal = 0x4000;
    public const short PollIn = 0x1;
    public const short PollOut = 0x4;

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeout);

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}
