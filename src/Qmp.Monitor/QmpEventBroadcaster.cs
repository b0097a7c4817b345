using Qmp.Monitor.Protocol;
using Qmp.Schema.Runtime;

namespace Qmp.Monitor;

/// <summary>
/// Fans a machine's events out to its monitors. Each event is stamped and serialised once;
/// monitors without a negotiated client drop it, as QEMU does. Never blocks the caller.
/// </summary>
public sealed class QmpEventBroadcaster : IQmpEventSink
{
    private readonly List<QmpMonitor> _monitors = [];
    private readonly TimeProvider _clock;

    /// <summary>Creates a broadcaster stamping events with <paramref name="clock"/> (the wall clock by default).</summary>
    public QmpEventBroadcaster(TimeProvider? clock = null) => _clock = clock ?? TimeProvider.System;

    /// <summary>Adds a monitor that will receive events.</summary>
    public void Add(QmpMonitor monitor)
    {
        lock (_monitors)
            _monitors.Add(monitor);
    }

    /// <inheritdoc/>
    public void Emit(IQmpEvent qmpEvent)
    {
        var message = new QmpEventMessage(qmpEvent, _clock.GetUtcNow());
        QmpMonitor[] monitors;
        lock (_monitors)
            monitors = [.. _monitors];
        foreach (var monitor in monitors)
            monitor.Deliver(message);
    }
}
