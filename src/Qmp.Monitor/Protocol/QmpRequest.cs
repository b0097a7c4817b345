using System.Text.Json.Nodes;
using StreamJsonRpc.Protocol;

namespace Qmp.Monitor.Protocol;

/// <summary>
/// A validated QMP command handed to StreamJsonRpc for dispatch. JsonRpc binds its single
/// argument (the <c>arguments</c> object) to the handler; the QMP id stays here, and JsonRpc sees
/// a synthetic numeric id so every command gets exactly one reply.
/// </summary>
internal sealed class QmpRequest : JsonRpcRequest
{
    public QmpRequest(long syntheticId, string command, JsonObject arguments)
    {
        RequestId = new StreamJsonRpc.RequestId(syntheticId);
        Method = command;
        QmpArguments = arguments;
    }

    public JsonObject QmpArguments { get; }

    public override int ArgumentCount => 1;

    public override bool ArgumentsAreNamed => false;

    public override bool TryGetArgumentByNameOrIndex(string? name, int position, Type? typeHint, out object? value)
    {
        value = position == 0 ? QmpArguments : null;
        return position == 0;
    }
}
