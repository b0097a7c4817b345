namespace Qmp.SchemaGen.Model;

/// <summary>A built-in scalar (str, int, the sized ints, size, number, bool, null, any).</summary>
internal sealed class QapiBuiltinType(string name, string jsonType) : QapiType(name, null, null, [])
{
    public override string JsonType { get; } = jsonType;

    public override string Meta => "built-in";

    public static IReadOnlyList<QapiBuiltinType> All { get; } =
    [
        new("str", "string"), new("number", "number"), new("int", "int"), new("int8", "int"), new("int16", "int"),
        new("int32", "int"), new("int64", "int"), new("uint8", "int"), new("uint16", "int"), new("uint32", "int"),
        new("uint64", "int"), new("size", "int"), new("bool", "boolean"), new("null", "null"), new("any", "value"),
    ];
}
