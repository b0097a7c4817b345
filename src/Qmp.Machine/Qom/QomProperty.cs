using System.Text.Json.Nodes;

namespace Qmp.Machine.Qom;

/// <summary>
/// A property of an object in the QOM tree: its name, QOM type (<c>bool</c>, <c>uint32</c>,
/// <c>string</c>, <c>child&lt;T&gt;</c>...) and accessors. A property without a setter is read-only.
/// </summary>
public sealed class QomProperty(string name, string type, Func<JsonNode?> get, Action<JsonNode?>? set = null)
{
    /// <summary>The property name.</summary>
    public string Name { get; } = name;

    /// <summary>The QOM type string qom-list reports.</summary>
    public string Type { get; } = type;

    /// <summary>Reads the value as JSON.</summary>
    public JsonNode? Get() => get();

    /// <summary>Whether qom-set may write it.</summary>
    public bool Writable => set is not null;

    /// <summary>Writes a JSON value; setters throw with QEMU's texts.</summary>
    public void Set(JsonNode? value) => (set ?? throw new MachineOperationException("Insufficient permission to perform this operation"))(value);
}
