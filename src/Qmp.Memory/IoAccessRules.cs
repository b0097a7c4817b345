namespace Qmp.Memory;

/// <summary>
/// The access sizes a handler implements; the dispatcher widens or splits other accesses as
/// QEMU's access_with_adjusted_size does (little-endian pieces at consecutive offsets).
/// </summary>
public readonly record struct IoAccessRules(int MinSize, int MaxSize)
{
    /// <summary>Any size from 1 to 4 bytes, the common case for legacy devices.</summary>
    public static IoAccessRules Default { get; } = new(1, 4);

    /// <summary>Only 1-byte accesses (most ISA registers).</summary>
    public static IoAccessRules Bytes { get; } = new(1, 1);

    /// <summary>Only 4-byte accesses (APIC, many PCI BARs).</summary>
    public static IoAccessRules Dwords { get; } = new(4, 4);
}
