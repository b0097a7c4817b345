using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Qmp.Monitor.Tests;

/// <summary>The client side of SCM_RIGHTS: sendmsg(2) with descriptors, which .NET's Socket cannot send.</summary>
internal static class ScmRights
{
    /// <summary>Sends <paramref name="data"/> with <paramref name="fds"/> attached, in one sendmsg.</summary>
    public static void Send(Socket socket, byte[] data, params int[] fds)
    {
        var control = new byte[16 + (((fds.Length * 4) + 7) & ~7)];
        BinaryPrimitives.WriteUInt64LittleEndian(control, (ulong)(16 + (fds.Length * 4)));
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(8), 1); // SOL_SOCKET
        BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(12), 1); // SCM_RIGHTS
        for (var i = 0; i < fds.Length; i++)
            BinaryPrimitives.WriteInt32LittleEndian(control.AsSpan(16 + (i * 4)), fds[i]);
        var dataHandle = GCHandle.Alloc(data, GCHandleType.Pinned);
        var controlHandle = GCHandle.Alloc(control, GCHandleType.Pinned);
        var iov = new IoVec { Base = dataHandle.AddrOfPinnedObject(), Length = (nuint)data.Length };
        var iovHandle = GCHandle.Alloc(iov, GCHandleType.Pinned);
        try
        {
            var header = new MsgHdr
            {
                Iov = iovHandle.AddrOfPinnedObject(),
                IovLen = 1,
                Control = fds.Length == 0 ? 0 : controlHandle.AddrOfPinnedObject(),
                ControlLen = fds.Length == 0 ? 0 : (nuint)control.Length,
            };
            if (SendMsg(socket.Handle, ref header, 0) != data.Length)
                throw new IOException("sendmsg failed: " + Marshal.GetLastPInvokeErrorMessage());
        }
        finally
        {
            dataHandle.Free();
            controlHandle.Free();
            iovHandle.Free();
        }
    }

    [DllImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static extern nint SendMsg(nint socket, ref MsgHdr message, int flags);

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
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
