using Qmp.Schema.Runtime;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Qmp.Monitor.Protocol;

/// <summary>JsonRpc with QMP's errors: a handler's <see cref="QmpErrorException"/> keeps its class and text.</summary>
internal sealed class QmpJsonRpc(IJsonRpcMessageHandler handler, Action<Exception> onUnexpected) : JsonRpc(handler)
{
    protected override JsonRpcError.ErrorDetail CreateErrorDetails(JsonRpcRequest request, Exception exception)
    {
        if (exception is QmpErrorException qmp)
            return new JsonRpcError.ErrorDetail { Code = JsonRpcErrorCode.InvocationError, Message = qmp.Message, Data = qmp.ErrorClass };
        if (exception is OperationCanceledException)
            return new JsonRpcError.ErrorDetail { Code = JsonRpcErrorCode.RequestCanceled, Message = "The command was cancelled", Data = QmpErrorClass.GenericError };
        // A bug, not a user error: say so plainly and keep the connection.
        onUnexpected(exception);
        return new JsonRpcError.ErrorDetail
        {
            Code = JsonRpcErrorCode.InternalError,
            Message = $"Internal error: {exception.Message}",
            Data = QmpErrorClass.GenericError,
        };
    }
}
