using System.Buffers;
using System.Text.Json.Nodes;
using Qmp.Schema.Json;
using Qmp.Schema.Runtime;

namespace Qmp.Monitor.Protocol;

/// <summary>Builds the bytes of server messages: one JSON object and CRLF, pretty or compact.</summary>
internal static class QmpWire
{
    public static byte[] Serialize(JsonObject message, bool pretty)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteTo(buffer, message, pretty);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Appends the message and its CRLF to <paramref name="output"/>.</summary>
    public static void WriteTo(IBufferWriter<byte> output, JsonObject message, bool pretty)
    {
        QmpJsonWriter.Write(output, message, pretty, "\r\n");
        output.Write("\r\n"u8);
    }

    /// <summary><c>{"return": value, "id": id}</c>; the id only when the request had one.</summary>
    public static JsonObject Return(JsonNode? value, QmpRequestId id)
    {
        var obj = new JsonObject { ["return"] = value };
        id.AddTo(obj);
        return obj;
    }

    /// <summary><c>{"id": id, "error": {"class": ..., "desc": ...}}</c>.</summary>
    public static JsonObject Error(QmpErrorClass errorClass, string description, QmpRequestId id)
    {
        var obj = new JsonObject
        {
            ["error"] = new JsonObject { ["class"] = errorClass.ToString(), ["desc"] = description },
        };
        id.AddTo(obj);
        return obj;
    }

    /// <summary><c>{"timestamp": {...}, "event": NAME, "data": {...}}</c>, stamped with the wall clock.</summary>
    public static JsonObject Event(IQmpEvent qmpEvent, DateTimeOffset now)
    {
        var micros = now.ToUnixTimeMilliseconds() * 1000 + now.UtcTicks / 10 % 1000;
        var obj = new JsonObject
        {
            ["event"] = qmpEvent.EventName,
            ["timestamp"] = new JsonObject { ["seconds"] = micros / 1_000_000, ["microseconds"] = micros % 1_000_000 },
        };
        if (qmpEvent.DataToJson() is { } data)
            obj["data"] = data;
        return obj;
    }
}
