using Microsoft.Win32.SafeHandles;

namespace Qmp.Block.File;

/// <summary>
/// QEMU's image locking (block/file-posix.c raw_apply_lock_bytes/raw_check_lock_bytes), so qmpd and
/// QEMU processes see each other's claims: an open file description takes a shared OFD lock on byte
/// 100 + n for each permission bit n it holds and on byte 200 + n for each one it does not let others
/// have; a conflict is another description holding the opposite byte.
/// </summary>
internal static class ImageLocks
{
    private const long PermBase = 100;
    private const long SharedBase = 200;
    private const int Bits = 4;

    private static readonly string[] _names = ["consistent read", "write", "write unchanged", "resize"];

    /// <summary>Takes the locks for (<paramref name="perms"/>, <paramref name="shared"/>), then checks nobody conflicts; on conflict, releases what it took and throws QEMU's error.</summary>
    public static void Apply(SafeFileHandle fd, string path, BlockPermissions perms, BlockPermissions shared)
    {
        for (var bit = 0; bit < Bits; bit++)
        {
            SetByte(fd, PermBase + bit, ((int)perms & (1 << bit)) != 0);
            SetByte(fd, SharedBase + bit, ((int)shared & (1 << bit)) == 0);
        }
        for (var bit = 0; bit < Bits; bit++)
        {
            string? error = null;
            if (((int)perms & (1 << bit)) != 0 && HeldByOther(fd, SharedBase + bit))
                error = $"Failed to get \"{_names[bit]}\" lock";
            else if (((int)shared & (1 << bit)) == 0 && HeldByOther(fd, PermBase + bit))
                error = $"Failed to get shared \"{_names[bit]}\" lock";
            if (error is not null)
            {
                Release(fd);
                throw new BlockException(BlockError.Permission, $"{error}\nIs another process using the image [{path}]?");
            }
        }
    }

    /// <summary>Drops every lock byte this description holds.</summary>
    public static void Release(SafeFileHandle fd)
    {
        for (var bit = 0; bit < Bits; bit++)
        {
            SetByte(fd, PermBase + bit, false);
            SetByte(fd, SharedBase + bit, false);
        }
    }

    private static void SetByte(SafeFileHandle fd, long offset, bool locked)
    {
        var info = new NativeFile.Flock { Type = locked ? NativeFile.FRdLck : NativeFile.FUnLck, Start = offset, Length = 1 };
        if (NativeFile.Fcntl(fd, NativeFile.FOfdSetLk, ref info) != 0 && locked)
            throw new BlockException(BlockError.Permission, $"Failed to lock byte {offset}: {NativeFile.LastError()}");
    }

    private static bool HeldByOther(SafeFileHandle fd, long offset)
    {
        var info = new NativeFile.Flock { Type = NativeFile.FWrLck, Start = offset, Length = 1 };
        return NativeFile.Fcntl(fd, NativeFile.FOfdGetLk, ref info) == 0 && info.Type != NativeFile.FUnLck;
    }
}
