namespace Qmp.SchemaGen.Model;

/// <summary>An array of one element type; QEMU calls it <c>ElementList</c>.</summary>
internal sealed class QapiArrayType(QapiType element) : QapiType(element.Name + "List", null, null, [])
{
    public QapiType Element { get; } = element;

    public override string JsonType => "array";

    public override string Meta => "array";
}
