namespace Qmp.Img;

/// <summary>What a <see cref="CompareChunk"/> asks for.</summary>
internal enum CompareChunkKind
{
    /// <summary>Nothing to read (both read as zeroes, or neither is allocated).</summary>
    Skip,

    /// <summary>Both images hold data: read both and compare.</summary>
    Both,

    /// <summary>Only <see cref="CompareChunk.Node"/> holds data: it must read as zeroes.</summary>
    MustBeZero,

    /// <summary>-s: the block status differs at the offset.</summary>
    StatusMismatch,

    /// <summary>The common part matched; the larger image's tail follows ("Warning: Image size mismatch!").</summary>
    SizeWarning,
}
