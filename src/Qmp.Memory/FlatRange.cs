namespace Qmp.Memory;

/// <summary>
/// One piece of an address space's flattened view: [<see cref="Start"/>, <see cref="End"/>) is
/// served by <see cref="Region"/> starting at <see cref="RegionOffset"/> in it.
/// </summary>
public sealed class FlatRange(ulong start, ulong end, MemoryRegion region, ulong regionOffset)
{
    /// <summary>First address of the range.</summary>
    public ulong Start { get; } = start;

    /// <summary>First address after the range.</summary>
    public ulong End { get; } = end;

    /// <summary>The region that answers accesses here.</summary>
    public MemoryRegion Region { get; } = region;

    /// <summary>Offset in <see cref="Region"/> of <see cref="Start"/>.</summary>
    public ulong RegionOffset { get; } = regionOffset;

    /// <summary>Offset in the region of <paramref name="address"/>, which must lie inside the range.</summary>
    public ulong OffsetOf(ulong address) => address - Start + RegionOffset;

    /// <summary>Offset in the RAM block of <paramref name="address"/> for RAM and ROM ranges.</summary>
    public long BlockOffsetOf(ulong address) => Region.BlockOffset + (long)OffsetOf(address);
}
