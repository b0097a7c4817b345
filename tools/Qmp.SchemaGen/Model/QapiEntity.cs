using Qmp.SchemaGen.Parsing;

namespace Qmp.SchemaGen.Model;

/// <summary>Anything with a name in the schema's single namespace.</summary>
internal abstract class QapiEntity(string name, QapiSourceInfo? info, QapiDoc? doc, IReadOnlyList<string> features)
{
    public string Name { get; } = name;

    public QapiSourceInfo? Info { get; } = info;

    public QapiDoc? Doc { get; } = doc;

    public IReadOnlyList<string> Features { get; } = features;

    /// <summary>The schema file that defines it; null for built-ins and implicit types.</summary>
    public string? Module => Info?.File;

    /// <summary>QEMU's describe(): "struct type 'Foo'".</summary>
    public abstract string Describe();
}
