namespace Qmp.SchemaGen.Model;

/// <summary>A member of an object type, command arguments or event data.</summary>
internal sealed class QapiMember(string name, QapiType type, bool optional, IReadOnlyList<string> features, QapiObjectType owner)
{
    public string Name { get; } = name;

    public QapiType Type { get; set; } = type;

    public bool Optional { get; } = optional;

    public IReadOnlyList<string> Features { get; } = features;

    /// <summary>The type that declares the member (a base, for inherited ones).</summary>
    public QapiObjectType Owner { get; } = owner;
}
