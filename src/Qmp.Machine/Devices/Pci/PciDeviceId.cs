namespace Qmp.Machine.Devices.Pci;

/// <summary>The <c>id</c> of a query-pci function (QAPI PciDeviceId).</summary>
/// <param name="Vendor">Vendor id (<c>vendor</c>).</param>
/// <param name="Device">Device id (<c>device</c>).</param>
/// <param name="Subsystem">Subsystem id (<c>subsystem</c>); present for type-0 headers only.</param>
/// <param name="SubsystemVendor">Subsystem vendor id (<c>subsystem-vendor</c>); present for type-0 headers only.</param>
public sealed record PciDeviceId(int Vendor, int Device, int? Subsystem, int? SubsystemVendor);
