using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Qmp.Schema.Json;

/// <summary>
/// Builds a value from one balanced token sequence with QEMU's json-parser.c rules and error
/// texts: the first error wins, duplicate keys are refused, integers become signed 64-bit where
/// they fit, else unsigned, else double.
/// </summary>
internal sealed class JsonParser
{
    private readonly List<JsonToken> _tokens;
    private int _next;
    private string? _error;

    private JsonParser(List<JsonToken> tokens) => _tokens = tokens;

    public static JsonMessage Parse(List<JsonToken> tokens)
    {
        var parser = new JsonParser(tokens);
        var value = parser.ParseValue(out var ok);
        if (parser._error is not null || !ok)
            return new JsonMessage(null, "JSON parse error, " + (parser._error ?? "expecting value"));
        return new JsonMessage(value, null);
    }

    private JsonToken? Peek() => _next < _tokens.Count ? _tokens[_next] : null;

    private JsonToken? Pop() => _next < _tokens.Count ? _tokens[_next++] : null;

    private void Error(string message) => _error ??= message;

    /// <summary>Parses one value; <paramref name="ok"/> is false when there was none (C's NULL).</summary>
    private JsonNode? ParseValue(out bool ok)
    {
        ok = false;
        var token = Peek();
        if (token is null)
        {
            Error("premature EOI");
            return null;
        }
        switch (token.Value.Type)
        {
            case JsonTokenType.LeftCurly:
                return ParseObject(out ok);
            case JsonTokenType.LeftSquare:
                return ParseArray(out ok);
            case JsonTokenType.String:
                Pop();
                var text = ParseString(token.Value);
                ok = text is not null;
                return text is null ? null : JsonValue.Create(text);
            case JsonTokenType.Integer:
                Pop();
                ok = true;
                return ParseInteger(token.Value);
            case JsonTokenType.Float:
                Pop();
                return ParseFloat(token.Value, out ok);
            case JsonTokenType.Keyword:
                Pop();
                return ParseKeyword(token.Value, out ok);
            default:
                Error("expecting value");
                return null;
        }
    }

    private JsonObject? ParseObject(out bool ok)
    {
        ok = false;
        Pop(); // '{'
        var obj = new JsonObject();
        var peek = Peek();
        if (peek is null)
        {
            Error("premature EOI");
            return null;
        }
        if (peek.Value.Type == JsonTokenType.RightCurly)
        {
            Pop();
            ok = true;
            return obj;
        }
        if (!ParsePair(obj))
            return null;
        while (true)
        {
            var token = Pop();
            if (token is null)
            {
                Error("premature EOI");
                return null;
            }
            if (token.Value.Type == JsonTokenType.RightCurly)
                break;
            if (token.Value.Type != JsonTokenType.Comma)
            {
                Error("expected separator in dict");
                return null;
            }
            if (!ParsePair(obj))
                return null;
        }
        ok = true;
        return obj;
    }

    private bool ParsePair(JsonObject obj)
    {
        if (Peek() is null)
        {
            Error("premature EOI");
            return false;
        }
        var key = ParseValue(out var keyOk);
        if (!keyOk || key is not JsonValue keyValue || !keyValue.TryGetValue(out string? name))
        {
            Error("key is not a string in object");
            return false;
        }
        var colon = Pop();
        if (colon is null)
        {
            Error("premature EOI");
            return false;
        }
        if (colon.Value.Type != JsonTokenType.Colon)
        {
            Error("missing : in object pair");
            return false;
        }
        var value = ParseValue(out var valueOk);
        if (!valueOk)
        {
            Error("Missing value in dict");
            return false;
        }
        if (obj.ContainsKey(name))
        {
            Error("duplicate key");
            return false;
        }
        obj.Add(name, value);
        return true;
    }

    private JsonArray? ParseArray(out bool ok)
    {
        ok = false;
        Pop(); // '['
        var array = new JsonArray();
        var peek = Peek();
        if (peek is null)
        {
            Error("premature EOI");
            return null;
        }
        if (peek.Value.Type == JsonTokenType.RightSquare)
        {
            Pop();
            ok = true;
            return array;
        }
        while (true)
        {
            var item = ParseValue(out var itemOk);
            if (!itemOk)
            {
                Error("expecting value");
                return null;
            }
            array.Add(item);
            var token = Pop();
            if (token is null)
            {
                Error("premature EOI");
                return null;
            }
            if (token.Value.Type == JsonTokenType.RightSquare)
                break;
            if (token.Value.Type != JsonTokenType.Comma)
            {
                Error("expected separator in list");
                return null;
            }
        }
        ok = true;
        return array;
    }

    private JsonNode? ParseKeyword(JsonToken token, out bool ok)
    {
        ok = true;
        switch (Encoding.ASCII.GetString(token.Text))
        {
            case "true":
                return JsonValue.Create(true);
            case "false":
                return JsonValue.Create(false);
            case "null":
                return null;
            case var other:
                ok = false;
                Error($"invalid keyword '{other}'");
                return null;
        }
    }

    private static JsonNode ParseInteger(JsonToken token)
    {
        var text = Encoding.ASCII.GetString(token.Text);
        if (text[0] != '-' && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var u))
            return u <= long.MaxValue ? JsonValue.Create((long)u) : JsonValue.Create(u);
        if (text[0] == '-' && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return JsonValue.Create(l);
        // Out of 64-bit range: QEMU falls back to a double.
        return JsonValue.Create(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    private JsonNode? ParseFloat(JsonToken token, out bool ok)
    {
        var text = Encoding.ASCII.GetString(token.Text);
        var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        // QEMU keeps inf and later prints it, which is not JSON; refusing it is the fix.
        if (double.IsInfinity(value))
        {
            ok = false;
            Error($"number '{text}' is out of range");
            return null;
        }
        ok = true;
        return JsonValue.Create(value);
    }

    private string? ParseString(JsonToken token)
    {
        var text = token.Text;
        // Most strings are plain ASCII without escapes: no need to walk them character by character.
        var body = text.AsSpan(1, text.Length - 2);
        if (!body.ContainsAny((byte)'\\', (byte)'\0') && System.Text.Ascii.IsValid(body))
            return Encoding.ASCII.GetString(body);
        var quote = text[0];
        var result = new StringBuilder(text.Length);
        var i = 1;
        while (text[i] != quote)
        {
            if (text[i] == '\\')
            {
                var start = i;
                i++;
                switch (text[i++])
                {
                    case (byte)'"': result.Append('"'); break;
                    case (byte)'\'': result.Append('\''); break;
                    case (byte)'\\': result.Append('\\'); break;
                    case (byte)'/': result.Append('/'); break;
                    case (byte)'b': result.Append('\b'); break;
                    case (byte)'f': result.Append('\f'); break;
                    case (byte)'n': result.Append('\n'); break;
                    case (byte)'r': result.Append('\r'); break;
                    case (byte)'t': result.Append('\t'); break;
                    case (byte)'u':
                        var cp = Hex4(text, i);
                        i += 4;
                        if (cp is >= 0xD800 and <= 0xDBFF && i + 1 < text.Length && text[i] == '\\' && text[i + 1] == 'u')
                        {
                            var trailing = Hex4(text, i + 2);
                            if (trailing is >= 0xDC00 and <= 0xDFFF)
                            {
                                cp = 0x10000 + ((cp & 0x3FF) << 10) + (trailing & 0x3FF);
                                i += 6;
                            }
                            else
                            {
                                cp = -1;
                            }
                        }
                        if (!IsEncodable(cp))
                        {
                            Error($"{Encoding.ASCII.GetString(text, start, i - start)} is not a valid Unicode character");
                            return null;
                        }
                        result.Append(char.ConvertFromUtf32(cp));
                        break;
                    default:
                        Error("invalid escape sequence in string");
                        return null;
                }
                continue;
            }
            var length = Utf8SequenceLength(text, i);
            if (length == 0)
            {
                Error("invalid UTF-8 sequence in string");
                return null;
            }
            if (length == 2 && text[i] == 0xC0)
                result.Append('\0');
            else
                result.Append(Encoding.UTF8.GetString(text, i, length));
            i += length;
        }
        return result.ToString();
    }

    /// <summary>Length of the valid UTF-8 sequence at <paramref name="i"/>, or 0 if it is invalid.</summary>
    private static int Utf8SequenceLength(byte[] text, int i)
    {
        var b = text[i];
        if (b < 0x80)
            return 1;
        int length, min;
        int cp;
        if ((b & 0xE0) == 0xC0) { length = 2; min = 0x80; cp = b & 0x1F; }
        else if ((b & 0xF0) == 0xE0) { length = 3; min = 0x800; cp = b & 0x0F; }
        else if ((b & 0xF8) == 0xF0) { length = 4; min = 0x10000; cp = b & 0x07; }
        else return 0;
        if (i + length > text.Length)
            return 0;
        for (var k = 1; k < length; k++)
        {
            if ((text[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (text[i + k] & 0x3F);
        }
        // Modified UTF-8 writes U+0000 as C0 80; QEMU accepts that one overlong form.
        if (length == 2 && cp == 0)
            return length;
        if (cp < min || !IsEncodable(cp))
            return 0;
        return length;
    }

    /// <summary>QEMU's mod_utf8_encode refuses surrogates and noncharacters.</summary>
    private static bool IsEncodable(int cp) =>
        cp is >= 0 and <= 0x10FFFF
        && cp is not (>= 0xD800 and <= 0xDFFF)
        && cp is not (>= 0xFDD0 and <= 0xFDEF)
        && (cp & 0xFFFE) != 0xFFFE;

    private static int Hex4(byte[] text, int i)
    {
        if (i + 4 > text.Length)
            return -1;
        var value = 0;
        for (var k = 0; k < 4; k++)
        {
            var c = text[i + k];
            var digit = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
                _ => -1,
            };
            if (digit < 0)
                return -1;
            value = value * 16 + digit;
        }
        return value;
    }
}
