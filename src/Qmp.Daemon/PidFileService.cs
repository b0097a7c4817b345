using Microsoft.Extensions.Hosting;

namespace Qmp.Daemon;

/// <summary>
/// Writes <c>-pidfile</c> once every machine is up (so a reader may connect right away) and
/// tells a waiting <c>-daemonize</c> parent that start-up is complete. Removes the file at exit.
/// </summary>
internal sealed class PidFileService(DaemonOptions options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.PidFile is { } path)
            File.WriteAllText(path, $"{Environment.ProcessId}\n");
        Daemonizer.SignalReady();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (options.PidFile is { } path && File.Exists(path))
            File.Delete(path);
        return Task.CompletedTask;
    }
}
