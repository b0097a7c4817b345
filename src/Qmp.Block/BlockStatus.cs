namespace Qmp.Block;

/// <summary>
/// The status of a run of bytes from some offset (QEMU's bdrv_block_status): how long the run is, what it
/// holds and, for data in this node's file, where. <see cref="Length"/> is never 0 for a request inside the node.
/// </summary>
public readonly record struct BlockStatus(long Length, BlockStatusFlags Flags, long HostOffset = 0);
