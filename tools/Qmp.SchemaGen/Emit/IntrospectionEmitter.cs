using System.Text.Json.Nodes;
using Qmp.SchemaGen.Model;

namespace Qmp.SchemaGen.Emit;

/// <summary>
/// Builds query-qmp-schema's answer the way QEMU's introspect.py does: commands and events in
/// schema order, then every type they reach in order of first use; type names other than
/// built-ins and arrays are masked as numbers in order of first reference; all integer types
/// show as <c>int</c>.
/// </summary>
internal sealed class IntrospectionEmitter(QapiSchema schema)
{
    private readonly Dictionary<QapiType, string> _masked = [];
    private readonly List<QapiType> _used = [];
    private readonly HashSet<QapiType> _usedSet = [];

    public JsonArray Build()
    {
        var entries = new JsonArray();
        foreach (var entity in schema.Definitions)
        {
            switch (entity)
            {
                case QapiCommand c:
                    var arg = Use(c.ArgType ?? schema.Empty);
                    var ret = Use(c.RetType ?? schema.Empty);
                    var command = Entry(c.Name, "command", c.Features);
                    command["arg-type"] = arg;
                    command["ret-type"] = ret;
                    if (c.AllowOob)
                        command["allow-oob"] = true;
                    entries.Add(command);
                    break;
                case QapiEvent e:
                    var data = Use(e.ArgType ?? schema.Empty);
                    var ev = Entry(e.Name, "event", e.Features);
                    ev["arg-type"] = data;
                    entries.Add(ev);
                    break;
            }
        }
        // The work list grows while it is walked: each type adds the types it refers to.
        for (var i = 0; i < _used.Count; i++)
            entries.Add(TypeEntry(_used[i]));
        return entries;
    }

    private static JsonObject Entry(string name, string meta, IReadOnlyList<string> features)
    {
        var obj = new JsonObject { ["name"] = name, ["meta-type"] = meta };
        if (features.Count > 0)
            obj["features"] = new JsonArray(features.Select(f => (JsonNode?)f).ToArray());
        return obj;
    }

    private QapiType Canonical(QapiType type)
    {
        if (type is QapiBuiltinType { JsonType: "int" })
            return schema.Lookup("int") as QapiType ?? type;
        if (type is QapiArrayType { Element: QapiBuiltinType { JsonType: "int" } })
            return schema.Array((QapiType)schema.Lookup("int")!);
        return type;
    }

    private string Use(QapiType type)
    {
        type = Canonical(type);
        if (_usedSet.Add(type))
            _used.Add(type);
        return type switch
        {
            QapiBuiltinType b => b.Name,
            QapiArrayType a => "[" + Use(a.Element) + "]",
            _ => Mask(type),
        };
    }

    private string Mask(QapiType type)
    {
        if (!_masked.TryGetValue(type, out var name))
            _masked[type] = name = _masked.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return name;
    }

    private JsonObject TypeEntry(QapiType type)
    {
        switch (type)
        {
            case QapiBuiltinType b:
                var builtin = Entry(b.Name, "builtin", []);
                builtin["json-type"] = b.JsonType;
                return builtin;
            case QapiEnumType e:
                var en = Entry(Mask(e), "enum", e.Features);
                en["members"] = new JsonArray(e.Values.Select(v =>
                {
                    var m = new JsonObject { ["name"] = v.Name };
                    if (v.Features.Count > 0)
                        m["features"] = new JsonArray(v.Features.Select(f => (JsonNode?)f).ToArray());
                    return (JsonNode?)m;
                }).ToArray());
                en["values"] = new JsonArray(e.Values.Select(v => (JsonNode?)v.Name).ToArray());
                return en;
            case QapiArrayType a:
                var element = Use(a.Element);
                var array = Entry("[" + element + "]", "array", []);
                array["element-type"] = element;
                return array;
            case QapiAlternateType alt:
                var alternate = Entry(Mask(alt), "alternate", alt.Features);
                alternate["members"] = new JsonArray(alt.Branches.Select(b => (JsonNode?)new JsonObject { ["type"] = Use(b.Type) }).ToArray());
                return alternate;
            case QapiObjectType o:
                var obj = Entry(Mask(o), "object", o.Features);
                obj["members"] = new JsonArray(o.Members.Select(m =>
                {
                    var member = new JsonObject { ["name"] = m.Name, ["type"] = Use(m.Type) };
                    if (m.Optional)
                        member["default"] = null;
                    if (m.Features.Count > 0)
                        member["features"] = new JsonArray(m.Features.Select(f => (JsonNode?)f).ToArray());
                    return (JsonNode?)member;
                }).ToArray());
                if (o.Tag is not null)
                {
                    obj["tag"] = o.Tag.Name;
                    // Tag values without a declared branch get the empty type, as in QEMU.
                    var variants = ((QapiEnumType)o.Tag.Type).Values.Select(v =>
                        (Case: v.Name, Type: o.Variants.FirstOrDefault(x => x.Case == v.Name)?.Type ?? schema.Empty));
                    var declared = o.Variants.Select(v => (v.Case, Type: v.Type)).Concat(variants.Where(v => o.Variants.All(x => x.Case != v.Case)));
                    obj["variants"] = new JsonArray(declared.Select(v => (JsonNode?)new JsonObject { ["case"] = v.Case, ["type"] = Use(v.Type) }).ToArray());
                }
                return obj;
            default:
                throw new InvalidOperationException($"cannot introspect {type.Describe()}");
        }
    }
}
