using System.Text.Json.Nodes;

namespace Qmp.Schema.Runtime;

/// <summary>A generated complex type that can be read from JSON, so clients can ask for typed results.</summary>
/// <typeparam name="TSelf">The type itself.</typeparam>
public interface IQapiType<TSelf> where TSelf : IQapiType<TSelf>
{
    /// <summary>Reads a value with the schema's checks; errors are <see cref="QmpErrorException"/>.</summary>
    static abstract TSelf Read(JsonNode? node);
}
