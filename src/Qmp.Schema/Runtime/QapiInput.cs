using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qmp.Schema.Runtime;

/// <summary>
/// What generated code uses to read arguments, with the error texts of QEMU's QObject input
/// visitor. <c>path</c> is the full name (<c>a.b[0]</c>) used in type errors; <c>name</c> is the
/// bare member name (null inside lists) that QEMU prints in enum and range errors.
/// </summary>
public static class QapiInput
{
    [ThreadStatic]
    private static bool t_keyval;

    /// <summary>
    /// Reads inside the scope accept scalars as strings, as QEMU's keyval input visitor does for the
    /// command line's dotted options (<c>-blockdev driver=raw,file.filename=x,offset=512</c>).
    /// </summary>
    public static IDisposable KeyvalScope()
    {
        var previous = t_keyval;
        t_keyval = true;
        return new KeyvalRestore(previous);
    }

    private sealed class KeyvalRestore(bool previous) : IDisposable
    {
        public void Dispose() => t_keyval = previous;
    }

    private static string? KeyvalText(JsonNode? node) =>
        t_keyval && node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static long? KeyvalInt(JsonNode? node)
    {
        if (KeyvalText(node) is not { } text)
            return null;
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return long.TryParse(text.AsSpan(2), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var hex) ? hex : null;
        return long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>The member set of an argument-less command.</summary>
    public static IReadOnlySet<string> NoMembers { get; } = new HashSet<string>();

    /// <summary>The full name of member <paramref name="name"/> inside <paramref name="parent"/>.</summary>
    public static string Member(string? parent, string name) => parent is null ? name : $"{parent}.{name}";

    /// <summary>The full name of element <paramref name="index"/> of list <paramref name="list"/>.</summary>
    public static string Element(string list, int index) => $"{list}[{index}]";

    public static QmpErrorException Missing(string path) => QmpErrorException.Generic($"Parameter '{path}' is missing");

    public static QmpErrorException WrongType(string? path, string expected) =>
        QmpErrorException.Generic($"Invalid parameter type for '{path ?? "<anonymous>"}', expected: {expected}");

    public static JsonObject Struct(JsonNode? node, string? path) => node as JsonObject ?? throw WrongType(path, "object");

    public static JsonArray Array(JsonNode? node, string path) => node as JsonArray ?? throw WrongType(path, "array");

    public static string Str(JsonNode? node, string path) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw WrongType(path, "string");

    public static bool Bool(JsonNode? node, string path) => KeyvalText(node) switch
    {
        "on" or "yes" or "true" => true,
        "off" or "no" or "false" => false,
        { } => throw QmpErrorException.Generic($"Parameter '{path}' expects 'on' or 'off'"),
        null => BoolValue(node, path),
    };

    private static bool BoolValue(JsonNode? node, string path) => node?.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw WrongType(path, "boolean"),
    };

    public static double Number(JsonNode? node, string path)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            if (v.TryGetValue(out long l))
                return l;
            if (v.TryGetValue(out ulong u))
                return u;
            return v.GetValue<double>();
        }
        throw WrongType(path, "number");
    }

    /// <summary>QEMU's int64 visit: integers only, a fraction (even <c>1.0</c>) is a type error.</summary>
    public static long Int(JsonNode? node, string path)
    {
        if (node is JsonValue v && v.TryGetValue(out long l))
            return l;
        if (KeyvalInt(node) is { } parsed)
            return parsed;
        throw WrongType(path, "integer");
    }

    /// <summary>int8 … int32: an int64 visit, then a range check reported with the bare name.</summary>
    public static long SizedInt(JsonNode? node, string path, string? name, long min, long max, string cType)
    {
        var value = Int(node, path);
        if (value < min || value > max)
            throw QmpErrorException.Generic($"Parameter '{name ?? "null"}' expects {cType}");
        return value;
    }

    /// <summary>uint64 and size: negative integers wrap, as QEMU accepts them for compatibility.</summary>
    public static ulong UInt64(JsonNode? node, string path)
    {
        if (node is JsonValue v)
        {
            if (v.TryGetValue(out long l))
                return unchecked((ulong)l);
            if (v.TryGetValue(out ulong u))
                return u;
        }
        if (KeyvalInt(node) is { } parsed)
            return unchecked((ulong)parsed);
        throw QmpErrorException.Generic($"Parameter '{path}' expects uint64");
    }

    /// <summary>uint8 … uint32: a uint64 visit, then a range check reported with the bare name.</summary>
    public static ulong SizedUInt(JsonNode? node, string path, string? name, ulong max, string cType)
    {
        var value = UInt64(node, path);
        if (value > max)
            throw QmpErrorException.Generic($"Parameter '{name ?? "null"}' expects {cType}");
        return value;
    }

    public static JsonNode? Null(JsonNode? node, string path) => node is null ? null : throw WrongType(path, "null");

    /// <summary>An <c>any</c> value, detached from the request so it can be stored or echoed.</summary>
    public static JsonNode? Any(JsonNode? node) => node?.DeepClone();

    /// <summary>An enum value: a string visit, then a lookup reported with the bare name.</summary>
    public static T Enum<T>(JsonNode? node, string path, string? name, Func<string, T?> parse) where T : struct
    {
        var text = Str(node, path);
        return parse(text) ?? throw QmpErrorException.Generic($"Parameter '{name ?? "null"}' does not accept value '{text}'");
    }

    /// <summary>Reads every element of a list with <paramref name="read"/>(element, path).</summary>
    public static List<T> List<T>(JsonNode? node, string path, Func<JsonNode?, string, T> read)
    {
        var array = Array(node, path);
        var result = new List<T>(array.Count);
        for (var i = 0; i < array.Count; i++)
            result.Add(read(array[i], Element(path, i)));
        return result;
    }

    /// <summary>After all members were read: any other key is refused, first in QDict order.</summary>
    public static void CheckUnexpected(JsonObject obj, string? path, IReadOnlySet<string> known)
    {
        if (obj.Count == 0)
            return;
        string? first = null;
        var firstBucket = int.MaxValue;
        foreach (var (key, _) in obj)
        {
            if (known.Contains(key))
                continue;
            var bucket = Json.QDictOrder.Bucket(key);
            if (first is null || bucket < firstBucket)
            {
                first = key;
                firstBucket = bucket;
            }
        }
        if (first is not null)
            throw QmpErrorException.Generic($"Parameter '{Member(path, first)}' is unexpected");
    }
}
