namespace Qmp.Block;

/// <summary>What a range of a node holds (QEMU's BDRV_BLOCK_* bits, as <c>qemu-img map</c> shows them).</summary>
[Flags]
public enum BlockStatusFlags
{
    /// <summary>Nothing known: the range is not allocated in this node (reads come from the backing chain).</summary>
    None = 0,

    /// <summary>The range reads from stored data (map's <c>data: true</c>).</summary>
    Data = 1,

    /// <summary>The range reads as zeroes (map's <c>zero: true</c>).</summary>
    Zero = 2,

    /// <summary>This node answers for the range itself (not its backing file).</summary>
    Allocated = 4,

    /// <summary><see cref="BlockStatus.HostOffset"/> is where the data lives in the node's file (map's <c>offset</c>).</summary>
    OffsetValid = 8,
}
