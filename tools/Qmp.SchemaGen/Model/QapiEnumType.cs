using Qmp.SchemaGen.Parsing;

namespace Qmp.SchemaGen.Model;

/// <summary>An enum and its values in definition order.</summary>
internal sealed class QapiEnumType(string name, QapiSourceInfo? info, QapiDoc? doc, IReadOnlyList<string> features,
    IReadOnlyList<(string Name, IReadOnlyList<string> Features)> values) : QapiType(name, info, doc, features)
{
    public IReadOnlyList<(string Name, IReadOnlyList<string> Features)> Values { get; } = values;

    public override string JsonType => "string";

    public override string Meta => "enum";
}
