using System.Runtime.InteropServices;

namespace Qmp.Monitor.Transports;

/// <summary>The few libc socket calls <see cref="SocketStream"/> makes itself.</summary>
internal static partial class SocketNative
{
    public const short PollIn = 0x1;
    public const short PollOut = 0x4;
    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int MsgDontWait = 0x40;
    public const int MsgNoSignal = 0x4000;
    public const int MsgCmsgCloexec = 0x40000000;
    public const int EIntr = 4;
    public const int EAgain = 11;

    /// <summary>Size of struct cmsghdr on 64-bit Linux (the descriptors follow it).</summary>
    public const int CmsgHeader = 16;

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(nint socket, ref MsgHdr message, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(nint socket, ReadOnlySpan<byte> buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(ref PollFd fd, nuint count, int timeoutMs);

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public readonly struct IoVec(nint @base, nuint length)
    {
        public readonly nint Base = @base;
        public readonly nuint Length = length;
    }

    /// <summary>struct msghdr on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public nint Name;
        public int NameLen;
        public nint Iov;
        public nuint IovLen;
        public nint Control;
        public nuint ControlLen;
        public int Flags;
    }
}
