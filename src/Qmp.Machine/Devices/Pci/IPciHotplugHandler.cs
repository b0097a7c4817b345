namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// What plugs functions into a bus and takes them out again (QEMU's HotplugHandler of a bus): a hotplug
/// slot. The board calls it for -device (cold plug) and for device_add and device_del. Used on the machine thread.
/// </summary>
internal interface IPciHotplugHandler
{
    /// <summary>Whether the slot takes devices while the machine runs (QEMU's <c>hotplug</c> property of a port).</summary>
    bool HotplugCapable { get; }

    /// <summary>Checks before the function realizes (QEMU's pre_plug); throws <see cref="DeviceRealizeException"/> and changes nothing.</summary>
    void PrePlug(PciDevice device);

    /// <summary>
    /// The function realized on the slot's bus: show it to the guest (QEMU's plug). A cold-plugged function is
    /// present from power-on; a hotplugged one raises the presence-detect event. Throws
    /// <see cref="DeviceRealizeException"/> before changing anything, and the caller unrealizes the function.
    /// </summary>
    void Plug(PciDevice device);

    /// <summary>Whether an unplug request for <paramref name="device"/> is pending and younger than QEMU's 5 s of virtual time.</summary>
    bool UnplugPending(PciDevice device);

    /// <summary>
    /// device_del (QEMU's unplug_request): asks the guest to release the slot and returns at once, or removes
    /// the function at once when the guest cannot see it (the slot is powered off, or function 0 is absent).
    /// Throws <see cref="MachineOperationException"/> with QEMU's reason when the slot refuses.
    /// </summary>
    void UnplugRequest(PciDevice device);

    /// <summary>system_reset: the guest that would answer pending unplug requests is gone; complete them.</summary>
    void CompletePendingUnplugs();
}
