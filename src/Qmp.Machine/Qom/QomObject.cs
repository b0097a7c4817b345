using System.Text.Json.Nodes;

namespace Qmp.Machine.Qom;

/// <summary>
/// A node of the QOM composition tree as QMP shows it: a type name, properties, and children
/// (which appear as <c>child&lt;T&gt;</c> properties, as in QEMU).
/// </summary>
public sealed class QomObject(string typeName)
{
    private readonly List<QomProperty> _properties = [];
    private readonly List<(string Name, QomObject Child)> _children = [];

    /// <summary>The object's QOM type.</summary>
    public string TypeName { get; } = typeName;

    /// <summary>The parent in the tree; null for the root.</summary>
    public QomObject? Parent { get; private set; }

    /// <summary>The name under which the parent holds this object.</summary>
    public string Name { get; private set; } = "";

    /// <summary>The absolute path (<c>/machine/peripheral/dbg</c>); <c>/</c> for the root.</summary>
    public string Path => Parent is null ? "/" : Parent.Parent is null ? "/" + Name : Parent.Path + "/" + Name;

    /// <summary>The children, in the order they were added.</summary>
    public IEnumerable<(string Name, QomObject Child)> Children => _children;

    /// <summary>Adds a property.</summary>
    public QomObject With(QomProperty property)
    {
        _properties.Add(property);
        return this;
    }

    /// <summary>Adds <paramref name="child"/> as <paramref name="name"/>.</summary>
    public QomObject AddChild(string name, QomObject child)
    {
        child.Parent = this;
        child.Name = name;
        _children.Add((name, child));
        return child;
    }

    /// <summary>The child called <paramref name="name"/>, or null.</summary>
    public QomObject? Child(string name) => _children.FirstOrDefault(c => c.Name == name).Child;

    /// <summary>What qom-list reports: <c>type</c>, the properties, then the children.</summary>
    public IEnumerable<(string Name, string Type)> List()
    {
        yield return ("type", "string");
        foreach (var property in _properties)
            yield return (property.Name, property.Type);
        foreach (var (name, child) in _children)
            yield return (name, $"child<{child.TypeName}>");
    }

    /// <summary>The property <paramref name="name"/> (children read as their path), or null when there is none.</summary>
    public QomProperty? Property(string name)
    {
        if (name == "type")
            return new QomProperty("type", "string", () => TypeName);
        if (_properties.FirstOrDefault(p => p.Name == name) is { } property)
            return property;
        return Child(name) is { } child ? new QomProperty(name, $"child<{child.TypeName}>", () => JsonValue.Create(child.Path)) : null;
    }

    /// <summary>This object and every descendant.</summary>
    public IEnumerable<QomObject> Descendants()
    {
        yield return this;
        foreach (var (_, child) in _children)
        {
            foreach (var d in child.Descendants())
                yield return d;
        }
    }
}
