namespace Qmp.SchemaGen.Parsing;

/// <summary>Where an expression comes from, printed the way QEMU's qapi-gen prints it.</summary>
internal sealed record QapiSourceInfo(string File, int Line, QapiSourceInfo? IncludedFrom = null)
{
    /// <summary>The definition being checked ("struct 'Foo'"), set once known.</summary>
    public string? Definition { get; init; }

    public string Format(int? column = null)
    {
        var lines = new List<string>();
        for (var parent = IncludedFrom; parent is not null; parent = parent.IncludedFrom)
            lines.Insert(0, $"In file included from {parent.File}:{parent.Line}:");
        if (Definition is not null)
            lines.Add($"{File}: In {Definition}:");
        lines.Add(column is null ? $"{File}:{Line}" : $"{File}:{Line}:{column}");
        return string.Join('\n', lines);
    }
}
