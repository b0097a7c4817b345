namespace Qmp.SchemaGen.Parsing;

/// <summary>A doc comment block: the symbol it documents, its body, its @member lines and tagged sections.</summary>
internal sealed class QapiDoc(QapiSourceInfo info)
{
    public QapiSourceInfo Info { get; } = info;

    /// <summary>The documented symbol (<c># @name:</c> on the first line), or null for free-form text.</summary>
    public string? Symbol { get; set; }

    public List<string> Body { get; } = [];

    public List<(string Name, List<string> Text)> Args { get; } = [];

    public List<(string Name, List<string> Text)> Features { get; } = [];

    public List<(string Tag, List<string> Text)> Sections { get; } = [];

    public string BodyText => string.Join('\n', Body).Trim();

    public string? ArgText(string name) =>
        Args.FirstOrDefault(a => a.Name == name).Text is { } text ? string.Join(' ', text).Trim() : null;

    public string? SectionText(string tag) =>
        Sections.FirstOrDefault(s => s.Tag == tag).Text is { } text ? string.Join('\n', text).Trim() : null;
}
