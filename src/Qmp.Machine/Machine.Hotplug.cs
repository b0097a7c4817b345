using Qmp.Machine.Qom;

namespace Qmp.Machine;

// QMP device_add and device_del: QEMU's qdev_device_add and qmp_device_del flows, on the machine thread.
public sealed partial class Machine
{
    private volatile bool _outgoingMigrationActive;

    /// <summary>
    /// Set by the migration code while an outgoing migration runs (QEMU's !migration_is_idle()):
    /// device_add and device_del then refuse with QEMU's "device_add not allowed while migrating" and
    /// "device_del not allowed while migrating", so source and destination keep the same device set.
    /// </summary>
    public bool OutgoingMigrationActive
    {
        get => _outgoingMigrationActive;
        set => _outgoingMigrationActive = value;
    }

    /// <summary>
    /// Set by the block job code: given the drive or node name a disk device_add would take, or a
    /// device_del would release, returns why a block job on that node forbids it (QEMU's blocker text, e.g.
    /// "Node 'd0' is busy: block device is in use by block job: mirror"), or null. Called on the machine thread.
    /// Without block jobs nothing is refused.
    /// </summary>
    public Func<string, string?>? BlockJobHotplugCheck { get; set; }

    /// <summary>
    /// QMP <c>device_add</c>: creates, realizes and plugs a device, then tells the guest through its slot.
    /// Realize is all or nothing: on any failure the machine is exactly as before (object tree, PCI
    /// configuration space, block backends).
    /// </summary>
    /// <exception cref="MachineOperationException">Refused or failed; the message is QEMU's text (GenericError).</exception>
    public Task DeviceAddAsync(DeviceConfig config, CancellationToken ct = default) => InvokeAsync(() =>
    {
        if (_board is IHotplugBoard board)
        {
            board.DeviceAdd(config, HotplugGate);
            return;
        }
        if (!DeviceCatalog.UserCreatable.Contains(config.Driver))
            throw new MachineOperationException($"'{config.Driver}' is not a valid device model name");
        // A machine without a board has no bus at all (QEMU's "none" machine).
        var bus = DeviceCatalog.Create(config.Driver) is Devices.Pci.PciDevice ? "PCI" : "ISA";
        throw new MachineOperationException($"No '{bus}' bus found for device '{config.Driver}'");
    }, ct);

    /// <summary>
    /// QMP <c>device_del</c>: asks for a device's removal by id or QOM path. A device on a hotplug slot gets
    /// an attention-button press and the call returns; DEVICE_DELETED follows when the guest powers the slot
    /// off (or at system_reset), DEVICE_UNPLUG_GUEST_ERROR when it refuses. Idempotent: a repeated request
    /// while the first is pending returns at once without a second button press (which would cancel the
    /// removal in the guest); one that comes 5 s of virtual time after the press presses the button again.
    /// </summary>
    /// <exception cref="DeviceNotFoundException">No such device (DeviceNotFound).</exception>
    /// <exception cref="MachineOperationException">The device cannot be unplugged now; QEMU's text (GenericError).</exception>
    public Task DeviceDelAsync(string idOrPath, CancellationToken ct = default) => InvokeAsync(() =>
    {
        try
        {
            if (_board is not IHotplugBoard board)
                throw new DeviceNotFoundException($"Device '{idOrPath}' not found");
            board.DeviceDel(idOrPath, HotplugGate);
        }
        catch (DeviceNotFoundException)
        {
            // QEMU resolves the name relative to /machine/peripheral: an object that is no device says so.
            var path = idOrPath.StartsWith('/') ? idOrPath : $"/machine/peripheral/{idOrPath}";
            if (QomBuilder.Build(this).Resolve(path, out _) is not null)
                throw new MachineOperationException($"{idOrPath} is not a hotpluggable device");
            throw;
        }
    }, ct);

    // Subscribes to the board's hotplug events; called once by the constructor.
    private void InitHotplug()
    {
        if (_board is not IHotplugBoard board)
            return;
        board.DeviceDeleted += (id, path) => Notify(o => o.OnDeviceDeleted(id, path));
        board.UnplugGuestError += (id, path) => Notify(o => o.OnDeviceUnplugGuestError(id, path));
    }

    // What the machine refuses now: any hotplug during an outgoing migration, a disk a block job holds.
    private string? HotplugGate(string operation, string? node)
    {
        if (node is null)
            return _outgoingMigrationActive ? $"{operation} not allowed while migrating" : null;
        return BlockJobHotplugCheck?.Invoke(node);
    }
}
