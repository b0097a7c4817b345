namespace Qmp.Machine.Devices.Pci;

/// <summary>One bus of <c>query-pci</c> (QAPI PciInfo).</summary>
/// <param name="Bus">The bus number (<c>bus</c>).</param>
/// <param name="Devices">The functions on the bus in devfn order (<c>devices</c>).</param>
public sealed record PciInfo(int Bus, IReadOnlyList<PciDeviceInfo> Devices);
