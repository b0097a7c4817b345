namespace Qmp.Machine;

/// <summary>
/// Receives the machine's lifecycle events on the machine thread, at the moment they happen, so
/// that an event caused by a command is published before the command completes.
/// Implementations must not block.
/// </summary>
public interface IMachineObserver
{
    /// <summary>The guest stopped running (QEMU's STOP).</summary>
    void OnStop();

    /// <summary>The guest resumed (QEMU's RESUME).</summary>
    void OnResume();

    /// <summary>The machine was reset (QEMU's RESET).</summary>
    void OnReset(bool guest, ShutdownCause cause);

    /// <summary>The machine is shutting down (QEMU's SHUTDOWN).</summary>
    void OnShutdown(bool guest, ShutdownCause cause);

    /// <summary>A power-button press was requested (QEMU's POWERDOWN).</summary>
    void OnPowerdown();

    /// <summary>
    /// A device is gone (QEMU's DEVICE_DELETED): <paramref name="id"/> is its id, null for an id-less device
    /// or child (a virtio device's <c>…/virtio-backend</c> comes first, then the device); <paramref name="path"/>
    /// its QOM path. Only raised once the device is unrealized and out of the object tree.
    /// </summary>
    void OnDeviceDeleted(string? id, string path)
    {
    }

    /// <summary>The guest refused to release a device device_del asked for (QEMU's DEVICE_UNPLUG_GUEST_ERROR).</summary>
    void OnDeviceUnplugGuestError(string? id, string path)
    {
    }
}
