using Qmp.Memory;

namespace Qmp.Machine.Devices.Pci;

/// <summary>A registered base address register and where its region currently sits (QEMU's PCIIORegion).</summary>
internal sealed class PciBar(int index, MemoryRegion region, PciBarType type)
{
    /// <summary>QEMU's PCI_BAR_UNMAPPED: decoding is off or the programmed address is unusable.</summary>
    public const ulong Unmapped = ulong.MaxValue;

    public int Index { get; } = index;

    public MemoryRegion Region { get; } = region;

    public PciBarType Type { get; } = type;

    public ulong Size => Region.Size;

    public bool IsIo => (Type & PciBarType.Io) != 0;

    public bool Is64 => !IsIo && (Type & PciBarType.Memory64) != 0;

    public bool Prefetchable => !IsIo && (Type & PciBarType.Prefetchable) != 0;

    public int ConfigOffset => PciConfigRegisters.Bar0 + (Index * 4);

    /// <summary>The decoded address (what query-pci reports), or <see cref="Unmapped"/>.</summary>
    public ulong Address { get; set; } = Unmapped;

    /// <summary>Whether <see cref="Region"/> is mapped in its address space right now.</summary>
    public bool Installed { get; set; }

    /// <summary>Decoded but not mapped because something else occupies the range; retried when BARs move.</summary>
    public bool Pending { get; set; }
}
