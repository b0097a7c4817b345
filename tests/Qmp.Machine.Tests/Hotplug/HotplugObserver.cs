namespace Qmp.Machine.Tests.Hotplug;

/// <summary>Records RESET and the hotplug events, in order, as QMP would show them.</summary>
internal sealed class HotplugObserver : IMachineObserver
{
    private readonly List<string> _events = [];

    public List<string> Events
    {
        get
        {
            lock (_events)
                return [.. _events];
        }
    }

    public void Clear()
    {
        lock (_events)
            _events.Clear();
    }

    public void OnStop()
    {
    }

    public void OnResume()
    {
    }

    public void OnReset(bool guest, ShutdownCause cause) => Add("RESET");

    public void OnShutdown(bool guest, ShutdownCause cause)
    {
    }

    public void OnPowerdown()
    {
    }

    public void OnDeviceDeleted(string? id, string path) => Add($"DEVICE_DELETED {id ?? "-"} {path}");

    public void OnDeviceUnplugGuestError(string? id, string path) => Add($"DEVICE_UNPLUG_GUEST_ERROR {id ?? "-"} {path}");

    private void Add(string e)
    {
        lock (_events)
            _events.Add(e);
    }
}
