using System.Globalization;
using System.Text;

namespace Qmp.Img;

/// <summary>
/// The creation options of one format (QEMU's QemuOpts over the format's and the file protocol's create_opts):
/// parses <c>-o key=value,…</c> with QEMU's syntax and errors, and prints the <c>Formatting</c> line's options in
/// the descriptor order qemu-img 7.2 uses, each set option with its value and the others with their defaults.
/// </summary>
internal sealed class CreateOptionList
{
    private static readonly CreateOption[] _qcow2 =
    [
        new("cluster_size", CreateOptionType.Size, "65536"),
        new("extended_l2", CreateOptionType.Bool, "off"),
        new("preallocation", CreateOptionType.String),
        new("compression_type", CreateOptionType.String, "zlib"),
        new("size", CreateOptionType.Size),
        new("backing_file", CreateOptionType.String),
        new("backing_fmt", CreateOptionType.String),
        new("data_file", CreateOptionType.String),
        new("data_file_raw", CreateOptionType.Bool),
        new("encryption", CreateOptionType.Bool),
        new("encrypt.format", CreateOptionType.String),
        new("compat", CreateOptionType.String),
        new("lazy_refcounts", CreateOptionType.Bool, "off"),
        new("refcount_bits", CreateOptionType.Number, "16"),
        new("nocow", CreateOptionType.Bool),
        new("extent_size_hint", CreateOptionType.Size),
    ];

    private static readonly CreateOption[] _raw =
    [
        new("size", CreateOptionType.Size),
        new("nocow", CreateOptionType.Bool),
        new("preallocation", CreateOptionType.String),
        new("extent_size_hint", CreateOptionType.Size),
    ];

    private readonly CreateOption[] _descriptors;
    private readonly Dictionary<string, (string Text, ulong Number)> _values = [];

    private CreateOptionList(CreateOption[] descriptors) => _descriptors = descriptors;

    /// <summary>The option list of <paramref name="format"/>, or null for a format there is no driver for.</summary>
    public static CreateOptionList? For(string format) => format switch
    {
        "qcow2" => new CreateOptionList(_qcow2),
        "raw" => new CreateOptionList(_raw),
        _ => null,
    };

    public bool Accepts(string name) => _descriptors.Any(d => d.Name == name);

    public string? Get(string name) => _values.TryGetValue(name, out var value) ? value.Text : null;

    /// <summary>The parsed number of a size or number option, if set.</summary>
    public ulong? GetNumber(string name) => _values.TryGetValue(name, out var value) ? value.Number : null;

    /// <summary>A bool option: its value, else <paramref name="fallback"/>.</summary>
    public bool GetBool(string name, bool fallback) => Get(name) is { } text ? text is "on" or "yes" or "true" : fallback;

    /// <summary>qemu_opts_do_parse: "a=1,b=x,,y" (",," is a comma in a value; a bare key means "on").</summary>
    public void Parse(string list)
    {
        foreach (var (key, value) in Split(list))
            Set(key, value);
    }

    /// <summary>Sets one option, checking the name and the value's syntax (QEMU's texts).</summary>
    public void Set(string key, string value)
    {
        var descriptor = _descriptors.FirstOrDefault(d => d.Name == key) ?? throw new ImgException($"Invalid parameter '{key}'");
        ulong number = 0;
        switch (descriptor.Type)
        {
            case CreateOptionType.Size:
                if (SizeParser.TryParse(value, out number) != SizeParser.Result.Ok)
                {
                    throw new ImgException($"Parameter '{key}' expects a non-negative number below 2^64\n"
                        + "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.");
                }
                break;
            case CreateOptionType.Number:
                if (!ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number))
                    throw new ImgException($"Parameter '{key}' expects a number");
                break;
            case CreateOptionType.Bool:
                if (value is not ("on" or "off" or "yes" or "no" or "true" or "false"))
                    throw new ImgException($"Parameter '{key}' expects 'on' or 'off'");
                break;
        }
        _values[key] = (value, number);
    }

    /// <summary>qemu_opts_print(opts, " "): set options with their values, unset ones with a default.</summary>
    public string Print()
    {
        var text = new StringBuilder();
        foreach (var descriptor in _descriptors)
        {
            var set = _values.TryGetValue(descriptor.Name, out var value);
            var shown = set ? value.Text : descriptor.Default;
            if (shown is null)
                continue;
            if (text.Length > 0)
                text.Append(' ');
            text.Append(descriptor.Name).Append('=');
            if (descriptor.Type == CreateOptionType.String)
                text.Append(shown.Replace(",", ",,", StringComparison.Ordinal));
            else if (set && descriptor.Type is CreateOptionType.Size or CreateOptionType.Number)
                text.Append(value.Number.ToString(CultureInfo.InvariantCulture));
            else
                text.Append(shown);
        }
        return text.ToString();
    }

    private static IEnumerable<(string Key, string Value)> Split(string list)
    {
        var position = 0;
        while (position < list.Length)
        {
            var key = new StringBuilder();
            while (position < list.Length && list[position] is not ('=' or ','))
                key.Append(list[position++]);
            if (position >= list.Length || list[position] == ',')
            {
                position++;
                if (key.Length > 0)
                    yield return (key.ToString(), "on");
                continue;
            }
            position++;
            var value = new StringBuilder();
            while (position < list.Length)
            {
                if (list[position] == ',')
                {
                    if (position + 1 < list.Length && list[position + 1] == ',')
                    {
                        value.Append(',');
                        position += 2;
                        continue;
                    }
                    break;
                }
                value.Append(list[position++]);
            }
            position++;
            yield return (key.ToString(), value.ToString());
        }
    }
}
