using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Qmp.Block.Jobs;

// The host calls blockdev-create's file driver makes as QEMU's raw_co_create does them, so errors carry strerror texts.
internal static partial class CreateJobNative
{
    public const int OCreat = 0x40;
    public const int ORdWr = 2;
    public const int OCloexec = 0x80000;
    public const int EInval = 22;
    private const uint FsIocGetFlags = 0x80086601;
    private const uint FsIocSetFlags = 0x40086602;
    private const int FsNoCowFlag = 0x00800000;
    private const uint FsIocFsGetXattr = 0x801c581f;
    private const uint FsIocFsSetXattr = 0x401c5820;
    private const uint FsXflagExtSize = 0x800;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(SafeFileHandle fd, long length);

    [LibraryImport("libc", EntryPoint = "posix_fallocate")]
    public static partial int PosixFallocate(SafeFileHandle fd, long offset, long length);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(SafeFileHandle fd, nuint request, ref int value);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(SafeFileHandle fd, nuint request, ref FsXattr value);

    public static string Strerror(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    public static string LastError() => Strerror(Marshal.GetLastPInvokeError());

    /// <summary>Sets FS_NOCOW_FL; filesystems without it refuse, which QEMU ignores too.</summary>
    public static void TrySetNoCow(SafeFileHandle fd)
    {
        var flags = 0;
        if (Ioctl(fd, FsIocGetFlags, ref flags) == 0)
        {
            flags |= FsNoCowFlag;
            _ = Ioctl(fd, FsIocSetFlags, ref flags);
        }
    }

    /// <summary>Sets the XFS extent size hint; returns 0 or the errno of the failure.</summary>
    public static int TrySetExtentSizeHint(SafeFileHandle fd, uint hint)
    {
        var attr = default(FsXattr);
        if (Ioctl(fd, FsIocFsGetXattr, ref attr) == 0)
        {
            attr.XFlags |= FsXflagExtSize;
            attr.ExtSize = hint;
            if (Ioctl(fd, FsIocFsSetXattr, ref attr) == 0)
                return 0;
        }
        return Marshal.GetLastPInvokeError();
    }

    [StructLayout(LayoutKind.Sequential, Size = 28)]
    private struct FsXattr
    {
        public uint XFlags;
        public uint ExtSize;
        public uint NExtents;
        public uint ProjId;
        public uint CowExtSize;
    }
}
