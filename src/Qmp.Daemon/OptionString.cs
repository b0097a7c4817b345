namespace Qmp.Daemon;

/// <summary>QEMU's <c>value,key=value,flag</c> option syntax, with <c>on/off/yes/no</c> booleans.</summary>
internal sealed class OptionString
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = [];
    private readonly List<KeyValuePair<string, string>> _pairs = [];

    private OptionString(string option) => Option = option;

    public string Option { get; }

    /// <summary>The leading value without <c>=</c> (e.g. <c>socket</c> in <c>-chardev socket,id=x</c>).</summary>
    public string? Head { get; private set; }

    public static OptionString Parse(string option, string text, bool allowHead = true)
    {
        var result = new OptionString(option);
        var parts = text.Split(',');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var eq = part.IndexOf('=');
            if (eq < 0)
            {
                if (i == 0 && allowHead)
                    result.Head = part;
                else
                {
                    result._values[part] = "on"; // legacy flags: "server", "nowait"
                    result._pairs.Add(new(part, "on"));
                }
                continue;
            }
            result._values[part[..eq]] = part[(eq + 1)..];
            result._pairs.Add(new(part[..eq], part[(eq + 1)..]));
        }
        return result;
    }

    /// <summary>Every key=value in order, marking them all used (for options handed on whole, like -device).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> TakeAll()
    {
        _used.UnionWith(_values.Keys);
        return _pairs;
    }

    public string? Get(string key)
    {
        _used.Add(key);
        return _values.GetValueOrDefault(key);
    }

    public bool GetBool(string key, bool defaultValue)
    {
        var value = Get(key);
        return value switch
        {
            null => defaultValue,
            "on" or "yes" or "true" => true,
            "off" or "no" or "false" => false,
            _ => throw new CommandLineException(Option, $"Parameter '{key}' expects 'on' or 'off'"),
        };
    }

    public int? GetInt(string key)
    {
        var value = Get(key);
        if (value is null)
            return null;
        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new CommandLineException(Option, $"Parameter '{key}' expects a number");
    }

    /// <summary>Refuses keys nobody asked for.</summary>
    public void CheckAllUsed()
    {
        var unknown = _values.Keys.FirstOrDefault(k => !_used.Contains(k));
        if (unknown is not null)
            throw new CommandLineException(Option, $"Invalid parameter '{unknown}'");
    }
}
