namespace Qmp.Machine.Devices.Pci;

/// <summary>The <c>pci_bridge</c> member of a query-pci function (QAPI PciBridgeInfo).</summary>
/// <param name="Bus">The bridge's bus numbers and windows (<c>bus</c>).</param>
/// <param name="Devices">
/// The functions on the secondary bus (<c>devices</c>), with <c>bus</c> set to the secondary bus number; null
/// (absent) while the secondary bus number is 0, i.e. before firmware or the guest numbered the bus, as in QEMU.
/// </param>
public sealed record PciBridgeInfo(PciBusInfo Bus, IReadOnlyList<PciDeviceInfo>? Devices);
