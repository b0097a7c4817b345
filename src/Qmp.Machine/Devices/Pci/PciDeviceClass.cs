namespace Qmp.Machine.Devices.Pci;

/// <summary>The <c>class_info</c> of a query-pci function (QAPI PciDeviceClass).</summary>
/// <param name="Class">Class and subclass, e.g. 0x0600 (<c>class</c>).</param>
/// <param name="Desc">QEMU's name for the class (<c>desc</c>), absent for classes it does not name.</param>
public sealed record PciDeviceClass(int Class, string? Desc);
