namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// The secondary bus of a <see cref="PciBridge"/>, named after the bridge's id (QEMU names a bridge's bus
/// that way, <c>pcie.0</c> for a port without id). Interrupts swizzle onto the bridge's pins and go on from
/// there; BARs reach the CPU only through the bridge's windows and while the slot has power.
/// </summary>
internal sealed class PciBridgeBus(PciBridge bridge) : PciBus
{
    /// <summary>The bridge in front of the bus.</summary>
    public PciBridge Bridge => bridge;

    public override string Name => bridge.Id ?? (bridge.SingleSlot ? "pcie.0" : "pci.1");

    public override int Number => bridge.SecondaryBusNumber;

    public override string TypeName => bridge.SecondaryBusType;

    internal override IPciHotplugHandler? HotplugHandler => bridge.SlotHandler;

    internal override int? DefaultSlot => bridge.SingleSlot ? 0 : null;

    internal override PciHost Host => bridge.Bus?.Host ?? throw new InvalidOperationException($"{bridge.TypeName} is not on a bus");

    internal override DeviceContext? Context => bridge.Realized ? bridge.Bus?.Context : null;

    /// <summary>QEMU's pci_swizzle_map_irq_fn: pin p of device d behind a bridge drives the bridge's pin (p + d) mod 4.</summary>
    public static int Swizzle(PciDevice device, int intx) => (intx + device.Address!.Value.Slot) & 3;

    // An unpowered slot answers nothing; functions other than 0 show only next to a function 0 (as QEMU
    // exposes hotplugged functions).
    internal override PciDevice? ConfigTarget(int devfn)
    {
        if (!bridge.SecondaryPowered)
            return null;
        if ((devfn & 7) != 0 && At(devfn & ~7) is null)
            return null;
        return At(devfn);
    }

    internal override string DevicePath(PciAddress address) =>
        bridge.Address is { } at && bridge.Bus is { } parent ? $"{parent.DevicePath(at)}:{address}" : $"0000:{Number:x2}:{address}";

    // QEMU's pci_change_irq_level: the level moves up to the bus that has an interrupt router, with the
    // pin mapped at each bridge; the bridge's own interrupt status does not change.
    internal override void ChangeIrqLevel(PciDevice device, int intx, int change) =>
        bridge.Bus?.ChangeIrqLevel(bridge, Swizzle(device, intx), change);

    internal override bool Forwards(ulong address, ulong size, bool io) =>
        bridge.Realized && bridge.SecondaryPowered && bridge.ForwardsRange(address, size, io) && (bridge.Bus?.Forwards(address, size, io) ?? false);

    internal override void CheckAddress(PciDevice device, int? slot, int function) => bridge.CheckSecondaryAddress(device, slot, function);

    // QEMU's do_pci_register_device: a hotplugged function joins a slot only before its function 0, which
    // tells the guest about the whole slot when it arrives.
    internal override void CheckExposed(PciDevice device, int devfn)
    {
        if (device.Hotplugged && (devfn & 7) != 0 && At(devfn & ~7) is { } function0)
            throw new DeviceRealizeException($"PCI: slot {devfn >> 3} function 0 already occupied by {function0.TypeName}, new func {device.TypeName} cannot be exposed to guest.");
    }

    internal override void Detached(PciDevice device) => bridge.SecondaryDetached(device);
}
