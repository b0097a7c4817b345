namespace Qmp.Block;

/// <summary>A request that changes a node's contents, as write notifiers see it.</summary>
/// <param name="Kind">What the request does.</param>
/// <param name="Offset">Where it starts (for a truncate: the new length).</param>
/// <param name="Length">How many bytes it covers (0 for a truncate).</param>
/// <param name="Data">The data of a <see cref="BlockWriteKind.Write"/>; empty otherwise.</param>
public readonly record struct BlockWriteRequest(BlockWriteKind Kind, long Offset, long Length, ReadOnlyMemory<byte> Data);
