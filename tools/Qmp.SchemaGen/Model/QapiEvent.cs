using Qmp.SchemaGen.Parsing;

namespace Qmp.SchemaGen.Model;

/// <summary>An event and its data type.</summary>
internal sealed class QapiEvent(string name, QapiSourceInfo info, QapiDoc? doc, IReadOnlyList<string> features)
    : QapiEntity(name, info, doc, features)
{
    public QapiObjectType? ArgType { get; set; }

    public bool Boxed { get; init; }

    public override string Describe() => $"event '{Name}'";
}
