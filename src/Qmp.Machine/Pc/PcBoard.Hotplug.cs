using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pci;
using Qmp.Machine.Devices.Virtio;
using Qmp.Machine.Qom;

namespace Qmp.Machine.Pc;

// device_add and device_del on the pc board. Only the slots of pcie-root-port take devices while the machine
// runs: pci.0 would need ACPI PCI hotplug (QEMU's mechanism on pc), which qmpd does not have.
public sealed partial class PcBoard
{
    /// <inheritdoc/>
    public event Action<string?, string>? DeviceDeleted;

    /// <inheritdoc/>
    public event Action<string?, string>? UnplugGuestError;

    /// <inheritdoc/>
    /// <remarks>
    /// All or nothing: the checks change nothing; the slot's pre-plug check, the realize (slot claim, drive,
    /// BARs, IRQ, capabilities, the virtio child) and the slot's plug step each undo everything before them
    /// when they fail, so the object tree, configuration space and block backends are as they were.
    /// </remarks>
    public void DeviceAdd(DeviceConfig config, Func<string, string?, string?> gate)
    {
        var device = CreateDevice(config, gate);
        // A disk whose node a block job holds stays out (the job code answers through the gate).
        if (device is VirtioBlkPci { Drive: { } drive } && gate("device_add", drive) is { } refusal)
            throw new MachineOperationException(refusal);
        if (device is not PciDevice { Bus.HotplugHandler: { } slot } pci)
            throw new MachineOperationException($"Device '{device.TypeName}' does not support hotplugging");
        if (pci is PciBridge)
            throw new MachineOperationException($"Device '{device.TypeName}' does not support hotplugging");
        pci.Hotplugged = true;
        try
        {
            slot.PrePlug(pci);
            pci.Realize(_context!);
            AddUserDevice(pci);
            try
            {
                slot.Plug(pci);
            }
            catch
            {
                _devices.Remove(pci);
                pci.Unrealize();
                throw;
            }
        }
        catch (DeviceRealizeException e)
        {
            throw new MachineOperationException(e.Message);
        }
    }

    /// <inheritdoc/>
    public void DeviceDel(string idOrPath, Func<string, string?, string?> gate)
    {
        // QEMU's find_device_state: an absolute QOM path, or a path relative to /machine/peripheral.
        var path = idOrPath.StartsWith('/') ? idOrPath : $"/machine/peripheral/{idOrPath}";
        var device = _devices.FirstOrDefault(d => PathOf(d) == path)
            ?? throw new DeviceNotFoundException($"Device '{idOrPath}' not found");
        var slot = (device as PciDevice)?.Bus?.HotplugHandler;
        // A repeated request while the guest is still deciding succeeds without pressing the button again: a
        // second press would cancel the removal in Linux pciehp. QEMU 7.2 answers {} here on a running pc
        // (ACPI hotplug), and "Device X is already in the process of unplug" on a paused one or with native
        // PCI Express hotplug; libvirt treats both as success. Once the request is 5 s of virtual time old
        // the button is pressed again, as QEMU's expiring pending_deleted_event allows.
        if (slot is not null && slot.UnplugPending((PciDevice)device))
            return;
        if (slot is not { HotplugCapable: true })
            throw new MachineOperationException(NoHotplugReason(device));
        if (gate("device_del", null) is { } refusal)
            throw new MachineOperationException(refusal);
        if (device is VirtioBlkPci { Drive: { } drive } && gate("device_del", drive) is { } jobRefusal)
            throw new MachineOperationException(jobRefusal);
        slot.UnplugRequest((PciDevice)device);
    }

    // qdev_unplug's refusals: the parent bus cannot hotplug, or the device has no bus and cannot go.
    private static string NoHotplugReason(Device device) => device switch
    {
        PciDevice { Bus: { } bus } => $"Bus '{bus.Name}' does not support hotplugging",
        _ when QomTypes.Implements(device.TypeName, "isa-device") => $"Bus '{IsaBusName}' does not support hotplugging",
        _ when QomTypes.Implements(device.TypeName, "sys-bus-device") => "Bus 'main-system-bus' does not support hotplugging",
        _ => $"Device '{device.TypeName}' does not support hotplugging",
    };

    // system_reset: pending unplug requests complete (DEVICE_DELETED after RESET, as QEMU's ACPI hotplug).
    private void CompletePendingUnplugs()
    {
        foreach (var bus in _pci.Buses.ToArray())
            bus.HotplugHandler?.CompletePendingUnplugs();
    }

    // A slot removed a function (already unrealized): it leaves the object tree, then DEVICE_DELETED goes
    // out for the virtio-backend child (id-less) and for the device, as QEMU emits them.
    private void OnUnplugged(PciDevice device)
    {
        var path = PathOf(device);
        _devices.Remove(device);
        if (device is VirtioPciDevice)
            DeviceDeleted?.Invoke(null, $"{path}/virtio-backend");
        DeviceDeleted?.Invoke(device.Id, path);
    }

    private void OnUnplugRefused(PciDevice device) => UnplugGuestError?.Invoke(device.Id, PathOf(device));
}
