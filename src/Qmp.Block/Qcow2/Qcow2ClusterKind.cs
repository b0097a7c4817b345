namespace Qmp.Block.Qcow2;

/// <summary>What an L2 entry makes of its guest cluster (QEMU's QCow2ClusterType).</summary>
internal enum Qcow2ClusterKind
{
    /// <summary>Offset 0, no zero flag: reads come from the backing file.</summary>
    Unallocated,

    /// <summary>Zero flag, no host cluster.</summary>
    ZeroPlain,

    /// <summary>Zero flag with a preallocated host cluster.</summary>
    ZeroAlloc,

    /// <summary>Data in a host cluster.</summary>
    Normal,

    /// <summary>Deflate-compressed data somewhere in the file.</summary>
    Compressed,
}
