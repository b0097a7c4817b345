using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qmp.Schema.Json;

/// <summary>
/// Serialises JSON the way QEMU's qobject_to_json does: ASCII only (everything else as upper-case
/// <c>\uXXXX</c>, surrogate pairs as two escapes), <c>", "</c> and <c>": "</c> separators, members
/// in QDict order, doubles as <c>%.17g</c>; pretty mode indents by four spaces. Line ends are the
/// caller's business (the monitor turns <c>\n</c> into CRLF).
/// </summary>
public static class QmpJsonWriter
{
    /// <summary>Appends the JSON text of <paramref name="node"/> to <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, JsonNode? node, bool pretty = false, string newline = "\n")
    {
        var writer = new Writer(output, pretty, newline);
        writer.WriteValue(node, 0);
    }

    /// <summary>The JSON text of <paramref name="node"/>.</summary>
    public static string ToJsonString(JsonNode? node, bool pretty = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(buffer, node, pretty);
        return System.Text.Encoding.ASCII.GetString(buffer.WrittenSpan);
    }

    /// <summary>C's <c>%.17g</c>, which QEMU uses for every double.</summary>
    public static string FormatDouble(double value)
    {
        if (double.IsNaN(value))
            return "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        if (value == 0)
            return BitConverter.DoubleToInt64Bits(value) < 0 ? "-0" : "0";
        const int precision = 17;
        // "E16" gives exactly 17 significant digits, rounded like printf.
        var e = value.ToString("E16", CultureInfo.InvariantCulture);
        var mantissaEnd = e.IndexOf('E');
        var exponent = int.Parse(e.AsSpan(mantissaEnd + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var negative = e[0] == '-';
        var digits = e.Substring(negative ? 1 : 0, mantissaEnd - (negative ? 1 : 0)).Replace(".", "", StringComparison.Ordinal);
        var sign = negative ? "-" : "";
        if (exponent < -4 || exponent >= precision)
        {
            var mantissa = TrimZeros(digits[..1] + "." + digits[1..]);
            var exponentText = Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
            return $"{sign}{mantissa}e{(exponent < 0 ? '-' : '+')}{exponentText}";
        }
        string text;
        if (exponent >= 0)
            text = digits[..(exponent + 1)] + "." + digits[(exponent + 1)..];
        else
            text = "0." + new string('0', -exponent - 1) + digits;
        return sign + TrimZeros(text);
    }

    private static string TrimZeros(string fixedPoint)
    {
        if (!fixedPoint.Contains('.', StringComparison.Ordinal))
            return fixedPoint;
        fixedPoint = fixedPoint.TrimEnd('0');
        return fixedPoint.EndsWith('.') ? fixedPoint[..^1] : fixedPoint;
    }

    private readonly ref struct Writer(IBufferWriter<byte> output, bool pretty, string newline)
    {
        private readonly IBufferWriter<byte> _output = output;
        private readonly bool _pretty = pretty;
        private readonly string _newline = newline;

        public void WriteValue(JsonNode? node, int indent)
        {
            switch (node)
            {
                case null:
                    Raw("null");
                    break;
                case JsonObject obj:
                    WriteObject(obj, indent);
                    break;
                case JsonArray array:
                    WriteArray(array, indent);
                    break;
                case JsonValue value:
                    WriteScalar(value);
                    break;
            }
        }

        private void WriteObject(JsonObject obj, int indent)
        {
            Raw("{");
            var count = obj.Count;
            if (count > 0)
            {
                var keys = new string[count];
                var values = new JsonNode?[count];
                var i = 0;
                foreach (var (key, value) in obj)
                {
                    keys[i] = key;
                    values[i++] = value;
                }
                Span<int> order = count <= 64 ? stackalloc int[count] : new int[count];
                QDictOrder.Sort(keys, order);
                for (i = 0; i < count; i++)
                {
                    if (i > 0)
                        Raw(_pretty ? "," : ", ");
                    Newline(indent + 1);
                    WriteString(keys[order[i]]);
                    Raw(": ");
                    WriteValue(values[order[i]], indent + 1);
                }
            }
            Newline(indent);
            Raw("}");
        }

        private void WriteArray(JsonArray array, int indent)
        {
            Raw("[");
            for (var i = 0; i < array.Count; i++)
            {
                if (i > 0)
                    Raw(_pretty ? "," : ", ");
                Newline(indent + 1);
                WriteValue(array[i], indent + 1);
            }
            Newline(indent);
            Raw("]");
        }

        private void WriteScalar(JsonValue value)
        {
            switch (value.GetValueKind())
            {
                case JsonValueKind.String:
                    WriteString(value.GetValue<string>());
                    break;
                case JsonValueKind.True:
                    Raw("true");
                    break;
                case JsonValueKind.False:
                    Raw("false");
                    break;
                case JsonValueKind.Number:
                    Raw(FormatNumber(value));
                    break;
                default:
                    Raw("null");
                    break;
            }
        }

        private static string FormatNumber(JsonValue value)
        {
            if (value.TryGetValue(out long l))
                return l.ToString(CultureInfo.InvariantCulture);
            if (value.TryGetValue(out ulong ul))
                return ul.ToString(CultureInfo.InvariantCulture);
            if (value.TryGetValue(out int n))
                return n.ToString(CultureInfo.InvariantCulture);
            if (value.TryGetValue(out uint un))
                return un.ToString(CultureInfo.InvariantCulture);
            if (value.TryGetValue(out double d))
                return FormatDouble(d);
            if (value.TryGetValue(out JsonElement element))
            {
                if (element.TryGetInt64(out l))
                    return l.ToString(CultureInfo.InvariantCulture);
                if (element.TryGetUInt64(out ul))
                    return ul.ToString(CultureInfo.InvariantCulture);
                return FormatDouble(element.GetDouble());
            }
            if (value.TryGetValue(out float f))
                return FormatDouble(f);
            // Any other CLR number (ushort, byte, decimal...) serialises as its integer or decimal text.
            return value.ToJsonString();
        }

        private void WriteString(string text)
        {
            Raw("\"");
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                switch (c)
                {
                    case '"': Raw("\\\""); break;
                    case '\\': Raw("\\\\"); break;
                    case '\b': Raw("\\b"); break;
                    case '\f': Raw("\\f"); break;
                    case '\n': Raw("\\n"); break;
                    case '\r': Raw("\\r"); break;
                    case '\t': Raw("\\t"); break;
                    default:
                        if (c < 0x20 || c >= 0x7F)
                        {
                            // A lone surrogate cannot come from valid UTF-8; QEMU prints U+FFFD.
                            var unit = char.IsSurrogate(c) && !IsPaired(text, i) ? '\uFFFD' : c;
                            if (char.IsHighSurrogate(c) && IsPaired(text, i))
                            {
                                Escape(c);
                                Escape(text[++i]);
                            }
                            else
                            {
                                Escape(unit);
                            }
                        }
                        else
                        {
                            Byte((byte)c);
                        }
                        break;
                }
            }
            Raw("\"");
        }

        private static bool IsPaired(string text, int i) =>
            char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);

        private void Escape(char c)
        {
            Span<char> hex = stackalloc char[6];
            hex[0] = '\\';
            hex[1] = 'u';
            ((int)c).TryFormat(hex[2..], out _, "X4", CultureInfo.InvariantCulture);
            var span = _output.GetSpan(6);
            for (var i = 0; i < 6; i++)
                span[i] = (byte)hex[i];
            _output.Advance(6);
        }

        private void Newline(int indent)
        {
            if (!_pretty)
                return;
            Raw(_newline);
            var span = _output.GetSpan(indent * 4);
            span[..(indent * 4)].Fill((byte)' ');
            _output.Advance(indent * 4);
        }

        private void Byte(byte b)
        {
            _output.GetSpan(1)[0] = b;
            _output.Advance(1);
        }

        private void Raw(string ascii)
        {
            var span = _output.GetSpan(ascii.Length);
            for (var i = 0; i < ascii.Length; i++)
                span[i] = (byte)ascii[i];
            _output.Advance(ascii.Length);
        }
    }
}
