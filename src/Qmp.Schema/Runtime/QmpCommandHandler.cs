using System.Text.Json.Nodes;

namespace Qmp.Schema.Runtime;

/// <summary>
/// Runs one command: validates <paramref name="arguments"/> against the schema, calls the domain,
/// returns the value for <c>return</c>. Errors are thrown as <see cref="QmpErrorException"/>.
/// </summary>
public delegate ValueTask<JsonNode?> QmpCommandHandler(JsonObject arguments, CancellationToken cancellationToken);
