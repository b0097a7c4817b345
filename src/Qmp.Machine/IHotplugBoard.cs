namespace Qmp.Machine;

/// <summary>
/// A board that takes devices while the machine runs (QMP <c>device_add</c> and <c>device_del</c>).
/// Everything runs on the machine thread; the machine turns the events into observer callbacks.
/// </summary>
internal interface IHotplugBoard
{
    /// <summary>A device is gone: (id or null, QOM path), once per removed qdev, children before their parent.</summary>
    event Action<string?, string>? DeviceDeleted;

    /// <summary>The guest refused to release a device it was asked to: (id or null, QOM path).</summary>
    event Action<string?, string>? UnplugGuestError;

    /// <summary>Creates, realizes and plugs a device, or throws <see cref="MachineOperationException"/> and leaves the board as it was.</summary>
    /// <param name="config">The driver and properties.</param>
    /// <param name="gate">Asked with the operation (<c>device_add</c>) and a drive or node name or null: why the machine refuses now, or null.</param>
    void DeviceAdd(DeviceConfig config, Func<string, string?, string?> gate);

    /// <summary>Asks for a device's removal; the removal itself may come later, when the guest lets go.</summary>
    /// <exception cref="DeviceNotFoundException">No device has that id or QOM path.</exception>
    /// <exception cref="MachineOperationException">The device cannot be unplugged; the message is QEMU's.</exception>
    void DeviceDel(string idOrPath, Func<string, string?, string?> gate);
}
