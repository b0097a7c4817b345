using Qmp.Block;

namespace Qmp.Img;

/// <summary>
/// One request of <c>convert</c>: <see cref="Length"/> bytes at <see cref="Offset"/> of the target, coming from
/// <see cref="SourceOffset"/> of <see cref="Source"/>; <see cref="Index"/> orders the writes.
/// </summary>
internal sealed record ConvertChunk(long Index, long Offset, long Length, bool Data, BlockNode Source, long SourceOffset);
