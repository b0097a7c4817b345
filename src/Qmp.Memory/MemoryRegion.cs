namespace Qmp.Memory;

/// <summary>
/// A named range of guest-visible memory or I/O that can be mapped into an address space: RAM and
/// ROM slices of a <see cref="RamBlock"/>, or device registers (QEMU's MemoryRegion, flattened:
/// containers are expressed by mapping several regions with priorities).
/// </summary>
public sealed class MemoryRegion
{
    private MemoryRegion(string name, MemoryRegionKind kind, ulong size, RamBlock? block, long blockOffset, IIoHandler? handler, IoAccessRules rules)
    {
        if (size == 0)
            throw new ArgumentOutOfRangeException(nameof(size), "a memory region cannot be empty");
        Name = name;
        Kind = kind;
        Size = size;
        Block = block;
        BlockOffset = blockOffset;
        Handler = handler;
        Rules = rules;
    }

    /// <summary>The region's name, as <c>info mtree</c> would show it.</summary>
    public string Name { get; }

    /// <summary>RAM, ROM or I/O.</summary>
    public MemoryRegionKind Kind { get; }

    /// <summary>Size in bytes.</summary>
    public ulong Size { get; }

    /// <summary>The RAM block behind a RAM or ROM region.</summary>
    public RamBlock? Block { get; }

    /// <summary>Where the region starts inside <see cref="Block"/>.</summary>
    public long BlockOffset { get; }

    /// <summary>The device callbacks of an I/O region.</summary>
    public IIoHandler? Handler { get; }

    /// <summary>Access sizes the handler implements.</summary>
    public IoAccessRules Rules { get; }

    /// <summary>A RAM slice of <paramref name="block"/>.</summary>
    public static MemoryRegion Ram(string name, RamBlock block, long offset, ulong size)
    {
        CheckSlice(block, offset, size);
        return new(name, MemoryRegionKind.Ram, size, block, offset, null, default);
    }

    /// <summary>A read-only slice of <paramref name="block"/> (firmware, option ROMs).</summary>
    public static MemoryRegion Rom(string name, RamBlock block, long offset, ulong size)
    {
        CheckSlice(block, offset, size);
        return new(name, MemoryRegionKind.Rom, size, block, offset, null, default);
    }

    /// <summary>Device registers served by <paramref name="handler"/>.</summary>
    public static MemoryRegion Io(string name, ulong size, IIoHandler handler, IoAccessRules? rules = null) =>
        new(name, MemoryRegionKind.Io, size, null, 0, handler, rules ?? IoAccessRules.Default);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Kind}, {Size:#x} bytes)";

    private static void CheckSlice(RamBlock block, long offset, ulong size)
    {
        if (offset < 0 || (offset & (long)PageSize.OffsetMask) != 0 || (size & PageSize.OffsetMask) != 0 || (ulong)offset + size > (ulong)block.Size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"slice {offset:#x}+{size:#x} is not a page-aligned part of RAM block '{block.Name}'");
    }
}
