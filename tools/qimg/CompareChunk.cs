using Qmp.Block;

namespace Qmp.Img;

/// <summary>One step of <c>compare</c>, in order: a range to check (reading one or both images), or a message.</summary>
internal sealed record CompareChunk(CompareChunkKind Kind, long Offset, long Length, BlockNode? Node = null, string? Name = null);
