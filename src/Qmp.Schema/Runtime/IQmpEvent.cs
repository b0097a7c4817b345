using System.Text.Json.Nodes;

namespace Qmp.Schema.Runtime;

/// <summary>An event defined by the schema.</summary>
public interface IQmpEvent
{
    /// <summary>The wire name (<c>SHUTDOWN</c>).</summary>
    string EventName { get; }

    /// <summary>The <c>data</c> member, or null for events without data.</summary>
    JsonObject? DataToJson();
}
