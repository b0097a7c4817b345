using Qmp.Schema.Runtime;

namespace Qmp.Monitor.Protocol;

/// <summary>An event serialised once per output style, shared by every session it goes to.</summary>
internal sealed class QmpEventMessage(IQmpEvent qmpEvent, DateTimeOffset now)
{
    private readonly Lazy<byte[]> _compact = new(() => QmpWire.Serialize(QmpWire.Event(qmpEvent, now), pretty: false));
    private readonly Lazy<byte[]> _pretty = new(() => QmpWire.Serialize(QmpWire.Event(qmpEvent, now), pretty: true));

    public string Name => qmpEvent.EventName;

    public byte[] Compact => _compact.Value;

    public byte[] Pretty => _pretty.Value;
}
