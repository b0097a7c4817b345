using System.Globalization;
using System.Text;

namespace Qmp.Img;

/// <summary>QEMU's JSON writer (qobject/json-writer.c) in pretty mode: 4-space indents, "key": value, and its quirks (an empty object prints as "{" newline "}").</summary>
internal sealed class QJson
{
    private readonly StringBuilder _text = new();
    private readonly List<bool> _containerIsArray = [];
    private bool _needComma;

    /// <summary>The pretty JSON text of a QDict, list or scalar.</summary>
    public static string Pretty(object value)
    {
        var writer = new QJson();
        writer.Write(null, value);
        return writer._text.ToString();
    }

    private void Write(string? name, object value)
    {
        switch (value)
        {
            case QDict dict:
                MaybeCommaName(name);
                _text.Append('{');
                Enter(false);
                foreach (var entry in dict.InQemuOrder())
                    Write(entry.Key, entry.Value);
                Leave();
                _text.Append('}');
                break;
            case System.Collections.IEnumerable list and not string:
                MaybeCommaName(name);
                _text.Append('[');
                Enter(true);
                foreach (var item in list)
                    Write(null, item!);
                Leave();
                _text.Append(']');
                break;
            case bool b:
                MaybeCommaName(name);
                _text.Append(b ? "true" : "false");
                break;
            case string s:
                MaybeCommaName(name);
                Quote(s);
                break;
            case IFormattable number:
                MaybeCommaName(name);
                _text.Append(number.ToString(null, CultureInfo.InvariantCulture));
                break;
            default:
                throw new ArgumentException($"no JSON for {value.GetType()}", nameof(value));
        }
    }

    private void Enter(bool isArray)
    {
        _containerIsArray.Add(isArray);
        _needComma = false;
    }

    private void Leave()
    {
        _containerIsArray.RemoveAt(_containerIsArray.Count - 1);
        _needComma = true;
        NewLine();
    }

    private void NewLine() => _text.Append('\n').Append(' ', _containerIsArray.Count * 4);

    private void MaybeCommaName(string? name)
    {
        if (_needComma)
        {
            _text.Append(',');
            NewLine();
        }
        else
        {
            if (_text.Length > 0)
                NewLine();
            _needComma = true;
        }
        if (_containerIsArray.Count > 0 && !_containerIsArray[^1])
        {
            Quote(name ?? "");
            _text.Append(": ");
        }
    }

    private void Quote(string s)
    {
        _text.Append('"');
        foreach (var rune in s.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': _text.Append("\\\""); break;
                case '\\': _text.Append("\\\\"); break;
                case '\b': _text.Append("\\b"); break;
                case '\f': _text.Append("\\f"); break;
                case '\n': _text.Append("\\n"); break;
                case '\r': _text.Append("\\r"); break;
                case '\t': _text.Append("\\t"); break;
                default:
                    var cp = rune.Value;
                    if (cp > 0xFFFF)
                        _text.Append(CultureInfo.InvariantCulture, $"\\u{0xD800 + ((cp - 0x10000) >> 10):X4}\\u{0xDC00 + ((cp - 0x10000) & 0x3FF):X4}");
                    else if (cp < 0x20 || cp >= 0x7F)
                        _text.Append(CultureInfo.InvariantCulture, $"\\u{cp:X4}");
                    else
                        _text.Append((char)cp);
                    break;
            }
        }
        _text.Append('"');
    }
}
