using Qmp.SchemaGen.Parsing;

namespace Qmp.SchemaGen.Model;

/// <summary>An alternate: a value that is one of several types, told apart by JSON type.</summary>
internal sealed class QapiAlternateType(string name, QapiSourceInfo? info, QapiDoc? doc, IReadOnlyList<string> features)
    : QapiType(name, info, doc, features)
{
    public List<(string Name, QapiType Type)> Branches { get; } = [];

    public override string JsonType => "value";

    public override string Meta => "alternate";
}
