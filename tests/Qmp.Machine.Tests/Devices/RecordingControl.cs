using Qmp.Machine.Devices;

namespace Qmp.Machine.Tests.Devices;

/// <summary>Records what devices ask of the machine.</summary>
internal sealed class RecordingControl : IMachineControl
{
    public List<string> Calls { get; } = [];

    public void RequestReset(ShutdownCause cause) => Calls.Add($"reset {cause}");

    public void RequestShutdown(ShutdownCause cause) => Calls.Add($"shutdown {cause}");

    public void ExitProcess(int exitCode) => Calls.Add($"exit {exitCode}");

    public void StopForIoError() => Calls.Add("stop io-error");

    public event Action? Resumed;

    /// <summary>Work devices posted to the machine thread; tests run it with <see cref="RunPosted"/>.</summary>
    public Queue<Action> Posted { get; } = new();

    public void Post(Action work)
    {
        lock (Posted)
            Posted.Enqueue(work);
    }

    /// <summary>Runs what was posted so far, on the calling (test's "machine") thread.</summary>
    public void RunPosted()
    {
        while (true)
        {
            Action? work;
            lock (Posted)
            {
                if (!Posted.TryDequeue(out work))
                    return;
            }
            work();
        }
    }

    /// <summary>Plays the machine's cont: raises <see cref="Resumed"/>.</summary>
    public void Resume() => Resumed?.Invoke();
}
