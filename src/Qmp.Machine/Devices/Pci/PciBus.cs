namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// A PCI bus (QEMU's PCIBus): 32 slots of 8 functions, the functions plugged into them, where their
/// interrupts go and which of their BAR ranges the CPU can reach. <c>pci.0</c> is the i440FX host's root
/// bus; every PCI-to-PCI bridge owns a secondary bus named after its id.
/// </summary>
/// <remarks>Used on the machine thread.</remarks>
public abstract class PciBus
{
    /// <summary>Slots on a bus.</summary>
    public const int SlotCount = 32;

    /// <summary>Functions per slot.</summary>
    public const int FunctionCount = 8;

    private readonly PciDevice?[] _devices = new PciDevice?[SlotCount * FunctionCount];

    /// <summary>The bus name <c>bus=</c> refers to: <c>pci.0</c>, or the id of the bridge that owns the bus.</summary>
    public abstract string Name { get; }

    /// <summary>The bus number the guest gave the bus: 0 for the root bus, the bridge's secondary bus number register otherwise.</summary>
    public abstract int Number { get; }

    /// <summary>QEMU's bus type name in "can't go on … bus": <c>PCI</c> or <c>PCIE</c>.</summary>
    public abstract string TypeName { get; }

    /// <summary>The functions on the bus in devfn order.</summary>
    public IReadOnlyList<PciDevice> Devices => [.. _devices.OfType<PciDevice>()];

    /// <summary>
    /// What handles device_add and device_del on this bus (QEMU's bus hotplug handler); null when the bus
    /// does not support hotplugging. qmpd has no ACPI PCI hotplug, so <c>pci.0</c> never has one.
    /// </summary>
    internal virtual IPciHotplugHandler? HotplugHandler => null;

    /// <summary>Whether device_add and device_del may target the bus (QEMU's qbus_is_hotpluggable).</summary>
    public bool Hotpluggable => HotplugHandler is { HotplugCapable: true };

    /// <summary>The slot a function without <c>addr</c> takes when the bus has only one (a PCI Express port); null picks the first free slot.</summary>
    internal virtual int? DefaultSlot => null;

    /// <summary>The host bridge at the top of the hierarchy.</summary>
    internal abstract PciHost Host { get; }

    /// <summary>The board the bus reaches, while its host (and bridge) are realized.</summary>
    internal abstract DeviceContext? Context { get; }

    /// <summary>The function at <paramref name="slot"/>.<paramref name="function"/>, or null.</summary>
    public PciDevice? Find(int slot, int function) =>
        slot is >= 0 and < SlotCount && function is >= 0 and < FunctionCount ? _devices[(slot * FunctionCount) + function] : null;

    /// <summary>The function a type-0 configuration cycle with <paramref name="devfn"/> reaches on this bus, or null (reads as all ones).</summary>
    internal virtual PciDevice? ConfigTarget(int devfn) => _devices[devfn];

    /// <summary>The function at <paramref name="devfn"/>, whatever the guest can see.</summary>
    internal PciDevice? At(int devfn) => _devices[devfn];

    /// <summary>QEMU's device path of the function at <paramref name="address"/>, e.g. <c>0000:00:03.0</c>.</summary>
    internal abstract string DevicePath(PciAddress address);

    /// <summary>A function's INTx pin <paramref name="intx"/> changed by <paramref name="change"/> (QEMU's pci_change_irq_level).</summary>
    internal abstract void ChangeIrqLevel(PciDevice device, int intx, int change);

    /// <summary>
    /// Whether a BAR at <paramref name="address"/> of <paramref name="size"/> bytes on this bus is reachable from
    /// the CPU: always on the root bus; behind a bridge only while every bridge above forwards the whole range.
    /// </summary>
    internal virtual bool Forwards(ulong address, ulong size, bool io) => true;

    /// <summary>Refuses an address the bus cannot hold, before the generic checks (a PCI Express port has one slot).</summary>
    internal virtual void CheckAddress(PciDevice device, int? slot, int function)
    {
    }

    /// <summary>Refuses a function at <paramref name="devfn"/> the guest could not see (QEMU's "cannot be exposed to guest").</summary>
    internal virtual void CheckExposed(PciDevice device, int devfn)
    {
    }

    /// <summary>A function left the bus (its realize was undone or it was unrealized).</summary>
    internal virtual void Detached(PciDevice device)
    {
    }

    /// <summary>Claims the devfn for <paramref name="device"/> with QEMU's checks and messages; returns it.</summary>
    internal int Attach(PciDevice device, int? slot, int function, bool multifunction)
    {
        if (Context is null)
            throw new DeviceRealizeException($"PCI bus '{Name}' is not realized");
        var name = device.TypeName;
        slot ??= DefaultSlot;
        CheckAddress(device, slot, function);
        int devfn;
        if (slot is not { } requested)
        {
            devfn = -1;
            for (var candidate = 0; candidate < _devices.Length; candidate += FunctionCount)
            {
                if (_devices[candidate] is null)
                {
                    devfn = candidate;
                    break;
                }
            }
            if (devfn < 0)
                throw new DeviceRealizeException($"PCI: no slot/function available for {name}, all in use or reserved");
        }
        else
        {
            if (requested is < 0 or >= SlotCount || function is < 0 or >= FunctionCount)
                throw new DeviceRealizeException($"Property '{name}.addr' doesn't take value '{requested:x}.{function:x}'");
            devfn = (requested * FunctionCount) + function;
            if (_devices[devfn] is { } other)
                throw new DeviceRealizeException($"PCI: slot {requested} function {function} not available for {name}, in use by {other.TypeName},id={other.Id ?? "(null)"}");
        }
        CheckExposed(device, devfn);
        CheckMultifunction(devfn, multifunction);
        _devices[devfn] = device;
        return devfn;
    }

    internal void Detach(PciDevice device)
    {
        var index = Array.IndexOf(_devices, device);
        if (index < 0)
            return;
        _devices[index] = null;
        Detached(device);
    }

    /// <summary>The bridges on this bus (their secondary buses hang below).</summary>
    internal IEnumerable<PciBridge> Bridges => _devices.OfType<PciBridge>();

    /// <summary>This bus and every bus below it, depth first.</summary>
    internal IEnumerable<PciBus> Subtree()
    {
        yield return this;
        foreach (var bridge in Bridges)
        {
            foreach (var bus in bridge.SecondaryBus.Subtree())
                yield return bus;
        }
    }

    /// <summary>
    /// The function a configuration cycle for bus <paramref name="bus"/> reaches through this bus's bridges
    /// (type-1 forwarding: a bridge claims the cycles for its secondary..subordinate range and turns those for
    /// its secondary bus into type-0 cycles), or null when no bridge claims it.
    /// </summary>
    internal PciDevice? RouteConfig(int bus, int devfn)
    {
        foreach (var bridge in Bridges)
        {
            var secondary = bridge.SecondaryBusNumber;
            if (secondary == 0 || bus < secondary || bus > bridge.SubordinateBusNumber)
                continue;
            return bus == secondary ? bridge.SecondaryBus.ConfigTarget(devfn) : bridge.SecondaryBus.RouteConfig(bus, devfn);
        }
        return null;
    }

    // QEMU's pci_init_multifunction.
    private void CheckMultifunction(int devfn, bool multifunction)
    {
        var slot = devfn / FunctionCount;
        var function = devfn % FunctionCount;
        var slotBase = slot * FunctionCount;
        if (function != 0)
        {
            if (_devices[slotBase] is { Multifunction: false })
                throw new DeviceRealizeException($"PCI: single function device can't be populated in function {slot:x}.{function:x}");
            return;
        }
        if (multifunction)
            return;
        for (var other = 1; other < FunctionCount; other++)
        {
            if (_devices[slotBase + other] is not null)
                throw new DeviceRealizeException($"PCI: {slot:x}.0 indicates single function, but {slot:x}.{other:x} is already populated.");
        }
    }
}
