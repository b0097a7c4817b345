namespace Qmp.Machine.Devices.Pci;

/// <summary>One BAR of a query-pci function (QAPI PciMemoryRegion).</summary>
/// <param name="Bar">The BAR index 0..5 (<c>bar</c>).</param>
/// <param name="Type"><c>io</c> or <c>memory</c> (<c>type</c>).</param>
/// <param name="Address">
/// Where the BAR decodes (<c>address</c>), or <see cref="UnmappedAddress"/> (-1) while decoding is off or the
/// programmed address is unusable: QEMU reports its PCI_BAR_UNMAPPED (all ones) through the QAPI int.
/// </param>
/// <param name="Size">The BAR size in bytes (<c>size</c>).</param>
/// <param name="Prefetch">Whether the BAR is prefetchable (<c>prefetch</c>); memory BARs only.</param>
/// <param name="MemType64">Whether the BAR is 64-bit (<c>mem_type_64</c>); memory BARs only.</param>
public sealed record PciMemoryRegion(int Bar, string Type, long Address, long Size, bool? Prefetch, bool? MemType64)
{
    /// <summary>The address of a BAR that does not decode.</summary>
    public const long UnmappedAddress = -1;
}
