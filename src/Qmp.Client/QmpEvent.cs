using System.Text.Json.Nodes;

namespace Qmp.Client;

/// <summary>An event as received: name, data (null when the event has none) and server timestamp.</summary>
public sealed record QmpEvent(string Name, JsonObject? Data, DateTimeOffset Timestamp);
