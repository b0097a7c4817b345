using Qmp.SchemaGen.Parsing;

namespace Qmp.SchemaGen.Model;

/// <summary>A type: built-in, enum, array, object (struct, union, implicit) or alternate.</summary>
internal abstract class QapiType(string name, QapiSourceInfo? info, QapiDoc? doc, IReadOnlyList<string> features)
    : QapiEntity(name, info, doc, features)
{
    /// <summary>The JSON type on the wire (introspection's json-type).</summary>
    public abstract string JsonType { get; }

    /// <summary>The meta word QEMU uses in messages.</summary>
    public abstract string Meta { get; }

    public override string Describe() => $"{Meta} type '{Name}'";
}
