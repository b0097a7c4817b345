namespace Qmp.Block.File;

/// <summary>QEMU's BLK_PERM_* bits, whose positions fix the lock bytes other QEMU processes test.</summary>
[Flags]
internal enum BlockPermissions
{
    None = 0,
    ConsistentRead = 1 << 0,
    Write = 1 << 1,
    WriteUnchanged = 1 << 2,
    Resize = 1 << 3,
    All = ConsistentRead | Write | WriteUnchanged | Resize,
}
