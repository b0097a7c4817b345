using System.Text.Json;
using System.Text.Json.Nodes;
using Qmp.Schema.Json;
using Qmp.Schema.Runtime;

namespace Qmp.Monitor.Protocol;

/// <summary>
/// The checks QEMU's qmp_dispatch makes on a request object before running anything, in its
/// order and with its texts. Members are examined in QDict order, so when several are wrong the
/// same one is reported as by QEMU.
/// </summary>
internal static class QmpDispatchCheck
{
    /// <summary>A request ready to run, or the error to answer with.</summary>
    public readonly record struct Outcome(string? Command, JsonObject? Arguments, bool Oob, QmpErrorClass ErrorClass, string? Error);

    /// <summary>True when QEMU would treat the message as out-of-band (before any check).</summary>
    public static bool IsOob(JsonObject request) => request.ContainsKey("exec-oob") && !request.ContainsKey("execute");

    public static Outcome Check(JsonObject request, bool oobEnabled)
    {
        var oob = IsOob(request);
        var keys = new List<string>(request.Count);
        foreach (var (key, _) in request)
            keys.Add(key);
        Span<int> order = keys.Count <= 16 ? stackalloc int[keys.Count] : new int[keys.Count];
        QDictOrder.Sort(keys, order);

        string? execKey = null;
        foreach (var index in order)
        {
            var key = keys[index];
            var value = request[key];
            if (key == "execute" || (key == "exec-oob" && oobEnabled))
            {
                if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                    return Fail($"QMP input member '{key}' must be a string");
                if (execKey is not null)
                    return Fail($"QMP input member '{key}' clashes with '{execKey}'");
                execKey = key;
            }
            else if (key == "arguments")
            {
                if (value is not JsonObject)
                    return Fail("QMP input member 'arguments' must be an object");
            }
            else if (key != "id")
            {
                return Fail($"QMP input member '{key}' is unexpected");
            }
        }
        if (execKey is null)
            return Fail("QMP input lacks member 'execute'");

        var command = request[oob ? "exec-oob" : "execute"]!.GetValue<string>();
        var arguments = request["arguments"] as JsonObject;
        if (arguments is not null)
            request.Remove("arguments");
        return new Outcome(command, arguments ?? [], oob, QmpErrorClass.GenericError, null);
    }

    private static Outcome Fail(string error) => new(null, null, false, QmpErrorClass.GenericError, error);
}
