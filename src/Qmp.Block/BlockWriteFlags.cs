namespace Qmp.Block;

/// <summary>Modifiers of a write request (QEMU's BdrvRequestFlags that reach drivers).</summary>
[Flags]
public enum BlockWriteFlags
{
    /// <summary>A plain write.</summary>
    None = 0,

    /// <summary>Force unit access: the data is stable when the request completes.</summary>
    Fua = 1,

    /// <summary>For write-zeroes: the range may be deallocated, as long as it reads back as zeroes.</summary>
    MayUnmap = 2,

    /// <summary>
    /// Store the data compressed (QEMU's BDRV_REQ_WRITE_COMPRESSED): whole clusters of a node whose
    /// <see cref="BlockNode.SupportsCompressedWrites"/> is true, into clusters not allocated yet.
    /// </summary>
    Compressed = 4,
}
