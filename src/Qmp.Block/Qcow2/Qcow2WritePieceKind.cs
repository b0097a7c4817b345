namespace Qmp.Block.Qcow2;

/// <summary>How one piece of an allocating write reaches the image.</summary>
internal enum Qcow2WritePieceKind
{
    /// <summary>Into clusters this image owns alone; no metadata changes.</summary>
    InPlace,

    /// <summary>Into newly allocated clusters, linked afterwards.</summary>
    New,

    /// <summary>Into a zero cluster preallocated for this image, whose zero flag goes when linking.</summary>
    Prealloc,
}
