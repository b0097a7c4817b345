using System.Text;
using Qmp.SchemaGen.Model;

namespace Qmp.SchemaGen.Emit;

/// <summary>Writes <c>schema/qmp-reference.md</c> from the doc comments: commands, events, types, by module.</summary>
internal sealed class MarkdownEmitter(QapiSchema schema)
{
    public string Emit()
    {
        var sb = new StringBuilder();
        sb.Append("# qmpd QMP reference\n\n");
        sb.Append("Generated from `schema/*.json` by `qmp-schemagen`; do not edit. Wire names are QEMU's.\n");
        foreach (var module in schema.Definitions.GroupBy(d => d.Module!))
        {
            sb.Append($"\n## {module.Key}\n");
            foreach (var c in module.OfType<QapiCommand>())
            {
                sb.Append($"\n### Command `{c.Name}`\n\n");
                Body(sb, c.Doc);
                Members(sb, c.ArgType?.Members, c.Doc, "Arguments");
                sb.Append($"Returns: {(c.RetType is null ? "`{}`" : $"`{Display(c.RetType)}`")}");
                if (c.Doc?.SectionText("Returns") is { Length: > 0 } returns)
                    sb.Append($" — {returns}");
                sb.Append('\n');
                Flags(sb, c);
                Since(sb, c.Doc);
            }
            foreach (var e in module.OfType<QapiEvent>())
            {
                sb.Append($"\n### Event `{e.Name}`\n\n");
                Body(sb, e.Doc);
                Members(sb, e.ArgType?.Members, e.Doc, "Data");
                Since(sb, e.Doc);
            }
            foreach (var t in module.OfType<QapiType>())
            {
                sb.Append($"\n### {t.Meta} `{t.Name}`\n\n");
                Body(sb, t.Doc);
                switch (t)
                {
                    case QapiEnumType en:
                        sb.Append("| value | meaning |\n|---|---|\n");
                        foreach (var (value, _) in en.Values)
                            sb.Append($"| `{value}` | {Cell(en.Doc?.ArgText(value))} |\n");
                        sb.Append('\n');
                        break;
                    case QapiObjectType o:
                        Members(sb, o.Members, o.Doc, "Members");
                        if (o.Tag is not null)
                        {
                            sb.Append($"Variants by `{o.Tag.Name}`: ");
                            sb.Append(string.Join(", ", o.Variants.Select(v => $"`{v.Case}` → `{v.Type.Name}`")));
                            sb.Append("\n\n");
                        }
                        break;
                    case QapiAlternateType a:
                        sb.Append("One of: " + string.Join(", ", a.Branches.Select(b => $"`{b.Name}` (`{Display(b.Type)}`)")) + "\n\n");
                        break;
                }
                Since(sb, t.Doc);
            }
        }
        return sb.ToString();
    }

    private static string Display(QapiType type) => type is QapiArrayType a ? $"[{Display(a.Element)}]" : type.Name;

    private static string Cell(string? text) => (text ?? "").Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');

    private static void Body(StringBuilder sb, Parsing.QapiDoc? doc)
    {
        if (doc?.BodyText is { Length: > 0 } body)
            sb.Append(body).Append("\n\n");
    }

    private static void Members(StringBuilder sb, IEnumerable<QapiMember>? members, Parsing.QapiDoc? doc, string title)
    {
        var list = members?.ToList() ?? [];
        if (list.Count == 0)
            return;
        sb.Append($"{title}:\n\n| name | type | description |\n|---|---|---|\n");
        foreach (var m in list)
        {
            var text = doc?.ArgText(m.Name) ?? m.Owner.Doc?.ArgText(m.Name);
            sb.Append($"| `{m.Name}`{(m.Optional ? " (optional)" : "")} | `{Display(m.Type)}` | {Cell(text)} |\n");
        }
        sb.Append('\n');
    }

    private static void Flags(StringBuilder sb, QapiCommand c)
    {
        var flags = new List<string>();
        if (c.AllowOob)
            flags.Add("allowed out of band");
        if (c.AllowPreconfig)
            flags.Add("allowed in preconfig");
        if (!c.Gen)
            flags.Add("implemented by the monitor");
        if (c.Features.Count > 0)
            flags.Add("features: " + string.Join(", ", c.Features));
        if (flags.Count > 0)
            sb.Append("\n_").Append(string.Join("; ", flags)).Append("_\n");
    }

    private static void Since(StringBuilder sb, Parsing.QapiDoc? doc)
    {
        if (doc?.SectionText("Since") is { Length: > 0 } since)
            sb.Append($"\nSince: {since}\n");
    }
}
