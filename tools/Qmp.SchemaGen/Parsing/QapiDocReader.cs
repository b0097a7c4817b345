namespace Qmp.SchemaGen.Parsing;

/// <summary>Splits a doc block's lines into body, @member lines, features and tagged sections.</summary>
internal static class QapiDocReader
{
    private static readonly string[] _tags = ["Returns:", "Since:", "Note:", "Notes:", "Example:", "Examples:", "TODO:", "Errors:"];

    public static void Fill(QapiDoc doc, List<string> lines)
    {
        var index = 0;
        if (lines.Count > 0 && lines[0].StartsWith('@') && lines[0].TrimEnd().EndsWith(':'))
        {
            doc.Symbol = lines[0].TrimEnd()[1..^1];
            index = 1;
        }
        List<string>? current = doc.Body;
        var inFeatures = false;
        for (; index < lines.Count; index++)
        {
            var line = lines[index];
            if (line.StartsWith('@') && line.IndexOf(':') is var colon and > 1)
            {
                var name = line[1..colon];
                current = [line[(colon + 1)..].Trim()];
                if (inFeatures)
                {
                    if (doc.Features.Any(f => f.Name == name))
                        throw new QapiException(doc.Info, $"'{name}' feature name duplicated");
                    doc.Features.Add((name, current));
                }
                else
                {
                    if (doc.Args.Any(a => a.Name == name))
                        throw new QapiException(doc.Info, $"'{name}' parameter name duplicated");
                    doc.Args.Add((name, current));
                }
                continue;
            }
            if (line.Trim() == "Features:")
            {
                inFeatures = true;
                current = null;
                continue;
            }
            var tag = _tags.FirstOrDefault(t => line.StartsWith(t, StringComparison.Ordinal));
            if (tag is not null)
            {
                var name = tag[..^1];
                if (name is "Since" or "Returns" && doc.Sections.Any(s => s.Tag == name))
                    throw new QapiException(doc.Info, $"duplicated '{name}' section");
                current = [line[tag.Length..].Trim()];
                doc.Sections.Add((name, current));
                inFeatures = false;
                continue;
            }
            if (current is null)
                continue;
            current.Add(current == doc.Body ? line : line.Trim());
        }
    }
}
