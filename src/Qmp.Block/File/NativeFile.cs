using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmp.Block.File;

/// <summary>The Linux calls .NET does not wrap: open with O_DIRECT, preadv2, fallocate, SEEK_DATA/SEEK_HOLE, fdatasync, OFD locks.</summary>
internal static partial class NativeFile
{
    public const int ORdOnly = 0, ORdWr = 2, OCloexec = 0x80000, ODirect = 0x4000;
    public const int SeekData = 3, SeekHole = 4;
    public const int FallocKeepSize = 1, FallocPunchHole = 2, FallocZeroRange = 0x10;
    public const int FOfdGetLk = 36, FOfdSetLk = 37;
    public const short FRdLck = 0, FWrLck = 1, FUnLck = 2;
    public const int RwfNowait = 8;
    public const int Eperm = 1, Enxio = 6, Eacces = 13, Einval = 22, Erofs = 30, Eopnotsupp = 95;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    public static partial long Lseek(SafeFileHandle fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int Fallocate(SafeFileHandle fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "preadv2", SetLastError = true)]
    public static unsafe partial nint Preadv2(SafeFileHandle fd, IoVec* iov, int count, long offset, int flags);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int Fdatasync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(SafeFileHandle fd, int command, ref Flock lockInfo);

    [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
    private static partial int Fstat(SafeFileHandle fd, ref StatBuffer buffer);

    /// <summary>Bytes the host allocated to the file (st_blocks × 512).</summary>
    public static long AllocatedBytes(SafeFileHandle fd)
    {
        var buffer = default(StatBuffer);
        return Fstat(fd, ref buffer) == 0 ? buffer.Blocks * 512 : -1;
    }

    /// <summary>strerror for the last failed call.</summary>
    public static string LastError() => Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>struct flock on x86-64 Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    /// <summary>struct stat on x86-64 Linux (144 bytes); only st_size and st_blocks are read.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 144)]
    private struct StatBuffer
    {
        [FieldOffset(48)]
        public long Size;

        [FieldOffset(64)]
        public long Blocks;
    }
}
