using System.Runtime.InteropServices;

namespace Qmp.Memory;

/// <summary>The libc calls guest RAM needs: mappings that migration and cpr can share or hand over.</summary>
internal static partial class NativeMethods
{
    public const int ProtRead = 0x1;
    public const int ProtWrite = 0x2;
    public const int MapShared = 0x01;
    public const int MapPrivate = 0x02;
    public const int MapAnonymous = 0x20;
    public const int MapNoReserve = 0x4000;
    public const uint MfdCloexec = 0x0001;
    public const int MadvDontDump = 16;
    public const int MadvDontNeed = 4;
    public const int MadvHugePage = 14;

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int madvise(nint addr, nuint length, int advice);

    public static string LastError() => Marshal.GetLastPInvokeErrorMessage();
}
