namespace Qmp.Machine.Devices.Pci;

/// <summary>One function in <c>query-pci</c> (QAPI PciDeviceInfo).</summary>
/// <param name="Bus">The bus number (<c>bus</c>).</param>
/// <param name="Slot">The slot (<c>slot</c>).</param>
/// <param name="Function">The function (<c>function</c>).</param>
/// <param name="ClassInfo">Class code and its description (<c>class_info</c>).</param>
/// <param name="Id">Vendor, device and subsystem ids (<c>id</c>).</param>
/// <param name="Irq">The interrupt line register (<c>irq</c>), present only when the function has an interrupt pin.</param>
/// <param name="IrqPin">The interrupt pin register, 0 for none and 1..4 for INTA..INTD (<c>irq_pin</c>).</param>
/// <param name="QdevId">The device's <c>id=</c>, or the empty string (<c>qdev_id</c>).</param>
/// <param name="Regions">The registered BARs in BAR order (<c>regions</c>).</param>
public sealed record PciDeviceInfo(
    int Bus,
    int Slot,
    int Function,
    PciDeviceClass ClassInfo,
    PciDeviceId Id,
    int? Irq,
    int IrqPin,
    string QdevId,
    IReadOnlyList<PciMemoryRegion> Regions)
{
    /// <summary>For a PCI-to-PCI bridge, its bus numbers, windows and the functions behind it (<c>pci_bridge</c>); null otherwise.</summary>
    public PciBridgeInfo? PciBridge { get; init; }
}
