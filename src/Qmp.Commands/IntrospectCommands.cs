using System.Text.Json.Nodes;
using Qmp.Schema;

namespace Qmp.Commands;

/// <summary>introspect.json: query-qmp-schema.</summary>
public sealed class IntrospectCommands : IIntrospectCommands
{
    // Read through the generated SchemaInfo reader once: the introspection data is checked
    // against the introspection schema itself.
    private static readonly Lazy<IReadOnlyList<SchemaInfo>> _schema = new(() =>
        JsonNode.Parse(QmpIntrospection.SchemaJson)!.AsArray().Select(e => SchemaInfo.FromJson(e)).ToList());

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<SchemaInfo>> QueryQmpSchemaAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(_schema.Value);
}
