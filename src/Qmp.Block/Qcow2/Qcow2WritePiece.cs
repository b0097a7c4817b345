namespace Qmp.Block.Qcow2;

/// <summary>
/// One run of an allocating write: <see cref="Count"/> guest clusters from <see cref="ClusterGuest"/>, backed by
/// host clusters from <see cref="Host"/>, of which the write covers <see cref="Length"/> bytes from guest offset
/// <see cref="From"/>; what the old entries (<see cref="OldFirst"/>, <see cref="OldLast"/>) showed fills the rest.
/// The entries live at <see cref="L2Index"/> of the L2 table at <see cref="TableOffset"/>.
/// </summary>
internal readonly record struct Qcow2WritePiece(
    Qcow2WritePieceKind Kind,
    long Host,
    long ClusterGuest,
    int Count,
    long From,
    int Length,
    ulong OldFirst,
    ulong OldLast,
    long TableOffset,
    int L2Index);
