namespace Qmp.Schema.Runtime;

/// <summary>Where events go: the monitors of one machine. Never blocks.</summary>
public interface IQmpEventSink
{
    /// <summary>Publishes <paramref name="qmpEvent"/> to every negotiated client, stamped now.</summary>
    void Emit(IQmpEvent qmpEvent);
}
