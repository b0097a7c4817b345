using System.Buffers;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Qmp.Monitor.Protocol;

/// <summary>
/// The formatter slot of StreamJsonRpc. QMP framing and parsing live in <see cref="QmpSession"/>,
/// which owns the JSON splitter and the per-request ids, so this formatter is never asked to
/// serialise or parse: a call reaching it means a message qmpd did not create.
/// </summary>
internal sealed class QmpFormatter : IJsonRpcMessageFormatter
{
    public JsonRpcMessage Deserialize(ReadOnlySequence<byte> contentBuffer) =>
        throw new InvalidOperationException("QMP messages are parsed by the QMP message handler.");

    public void Serialize(IBufferWriter<byte> bufferWriter, JsonRpcMessage message) =>
        throw new InvalidOperationException($"Unexpected outgoing JSON-RPC message {message.GetType().Name}.");

    [Obsolete("Required by the interface.")]
    public object GetJsonText(JsonRpcMessage message) =>
        throw new InvalidOperationException("QMP messages have no JSON-RPC text.");
}
