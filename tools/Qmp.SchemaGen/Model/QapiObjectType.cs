using Qmp.SchemaGen.Parsing;

namespace Qmp.SchemaGen.Model;

/// <summary>A struct, a union (base + tag + variants) or an implicit argument type.</summary>
internal sealed class QapiObjectType(string name, QapiSourceInfo? info, QapiDoc? doc, IReadOnlyList<string> features, bool isUnion, bool isImplicit)
    : QapiType(name, info, doc, features)
{
    public bool IsUnion { get; } = isUnion;

    public bool IsImplicit { get; } = isImplicit;

    public QapiObjectType? Base { get; set; }

    public List<QapiMember> LocalMembers { get; } = [];

    public QapiMember? Tag { get; set; }

    public List<QapiVariant> Variants { get; } = [];

    /// <summary>Base members first, then this type's own, as QEMU flattens them.</summary>
    public IEnumerable<QapiMember> Members => (Base?.Members ?? []).Concat(LocalMembers);

    public bool IsEmpty => !Members.Any() && Variants.Count == 0;

    public override string JsonType => "object";

    public override string Meta => IsUnion ? "union" : "struct";
}
