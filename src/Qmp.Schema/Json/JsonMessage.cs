using System.Text.Json.Nodes;

namespace Qmp.Schema.Json;

/// <summary>
/// One message split from a JSON stream: either a complete value or the error that ended the
/// attempt to read one (QEMU's wording, e.g. <c>JSON parse error, invalid keyword 'bad'</c>).
/// </summary>
public readonly record struct JsonMessage(JsonNode? Value, string? Error)
{
    /// <summary>True when this is an error rather than a value.</summary>
    public bool IsError => Error is not null;
}
