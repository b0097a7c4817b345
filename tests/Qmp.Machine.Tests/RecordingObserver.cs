namespace Qmp.Machine.Tests;

/// <summary>Records events with the thread they were raised on.</summary>
internal sealed class RecordingObserver : IMachineObserver
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

    public int? LastThread { get; private set; }

    public void OnStop() => Add("STOP");

    public void OnResume() => Add("RESUME");

    public void OnReset(bool guest, ShutdownCause cause) => Add($"RESET {guest} {cause}");

    public void OnShutdown(bool guest, ShutdownCause cause) => Add($"SHUTDOWN {guest} {cause}");

    public void OnPowerdown() => Add("POWERDOWN");

    private void Add(string e)
    {
        LastThread = Environment.CurrentManagedThreadId;
        lock (_events)
            _events.Add(e);
    }
}
