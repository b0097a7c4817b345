namespace Qmp.SchemaGen.Parsing;

/// <summary>A JSON-like object in a schema file; keys keep their order.</summary>
internal sealed class QapiObject : OrderedDictionary<string, object>
{
    public string? GetString(string key) => TryGetValue(key, out var v) ? v as string : null;
}
