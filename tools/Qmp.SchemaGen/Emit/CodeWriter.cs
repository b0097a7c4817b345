using System.Text;

namespace Qmp.SchemaGen.Emit;

/// <summary>An indenting text writer for generated C#.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public CodeWriter Line(string text = "")
    {
        if (text.Length == 0)
            _sb.Append('\n');
        else
            _sb.Append(' ', _indent * 4).Append(text).Append('\n');
        return this;
    }

    public CodeWriter Open(string text)
    {
        Line(text);
        Line("{");
        _indent++;
        return this;
    }

    public CodeWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    /// <summary>An XML doc summary; <paramref name="xml"/> is already XML (see <see cref="Escape"/>).</summary>
    public CodeWriter Doc(string? xml)
    {
        if (string.IsNullOrWhiteSpace(xml))
            return this;
        Line("/// <summary>");
        foreach (var line in xml.Trim().Split('\n'))
            Line("/// " + line.TrimEnd());
        Line("/// </summary>");
        return this;
    }

    /// <summary>Schema text made safe for an XML doc comment.</summary>
    public static string Escape(string? text) =>
        (text ?? "").Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    public override string ToString() => _sb.ToString();
}
