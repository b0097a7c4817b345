using System.Text.Json.Nodes;

namespace Qmp.Monitor.Protocol;

/// <summary>
/// A request's <c>id</c>: any JSON value, or absent. Echoed re-serialised, as QEMU does.
/// </summary>
internal readonly record struct QmpRequestId(bool Present, JsonNode? Value)
{
    public static QmpRequestId None => default;

    /// <summary>Takes the id out of <paramref name="request"/> so it can be placed in the reply.</summary>
    public static QmpRequestId From(JsonObject request)
    {
        if (!request.TryGetPropertyValue("id", out var value))
            return None;
        request.Remove("id");
        return new QmpRequestId(true, value);
    }

    public void AddTo(JsonObject reply)
    {
        if (Present)
            reply["id"] = Value?.Parent is null ? Value : Value.DeepClone();
    }
}
