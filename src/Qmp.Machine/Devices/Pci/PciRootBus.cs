namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// <c>pci.0</c>, the i440FX host's root bus: interrupts go to the PIIX3 PIRQ router, every BAR range is
/// reachable, and no hotplug handler (qmpd has no ACPI PCI hotplug, QEMU's mechanism for this bus on
/// <c>pc</c>), so device_add and device_del refuse it with QEMU's "Bus 'pci.0' does not support hotplugging".
/// </summary>
internal sealed class PciRootBus(PciHost host) : PciBus
{
    public override string Name => "pci.0";

    public override int Number => 0;

    public override string TypeName => "PCI";

    internal override PciHost Host => host;

    internal override DeviceContext? Context => host.RealizedContext;

    internal override string DevicePath(PciAddress address) => $"0000:00:{address}";

    internal override void ChangeIrqLevel(PciDevice device, int intx, int change) => host.ChangeIrqLevel(device, intx, change);
}
