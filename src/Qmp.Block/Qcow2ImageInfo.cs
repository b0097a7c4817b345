namespace Qmp.Block;

/// <summary>QEMU's ImageInfoSpecificQCow2: the header facts <c>qemu-img info</c> prints under "Format specific information".</summary>
public sealed record Qcow2ImageInfo(
    string Compat,
    bool LazyRefcounts,
    bool Corrupt,
    int RefcountBits,
    bool ExtendedL2,
    string CompressionType);
