using System.Text;

namespace Qmp.Machine.Devices.FwCfg;

/// <summary>
/// Resolves <c>-fw_cfg [name=]NAME,file=PATH|string=TEXT</c> as QEMU 7.2's parse_fw_cfg does,
/// with its error texts (thrown as <see cref="MachineOperationException"/>) and its warning for
/// names outside <c>opt/</c>. There are no <c>-object</c>s, so any <c>gen_id</c> is not found.
/// </summary>
internal static class FwCfgOption
{
    public const string PrefixWarning = "externally provided fw_cfg item names should be prefixed with \"opt/\"";

    private static readonly string[] _keys = ["name", "file", "string", "gen_id"];

    /// <summary>Parses the option text (QemuOpts syntax: ",," is a literal comma) and loads the file.</summary>
    public static FwCfgUserFile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var first = true;
        var p = 0;
        while (p < text.Length)
        {
            var nameEnd = text.IndexOfAny(['=', ','], p);
            if (nameEnd < 0)
                nameEnd = text.Length;
            string key, value;
            if (nameEnd == text.Length || text[nameEnd] == ',')
            {
                if (first)
                {
                    // The first element without '=' is the implied "name" (QEMU's implied_opt_name).
                    key = "name";
                    (value, p) = ReadValue(text, p);
                }
                else
                {
                    // A bare word is a flag: foo=on, nofoo=off.
                    var flag = text[p..nameEnd];
                    (key, value) = flag.StartsWith("no", StringComparison.Ordinal) ? (flag[2..], "off") : (flag, "on");
                    p = Math.Min(nameEnd + 1, text.Length);
                }
            }
            else
            {
                key = text[p..nameEnd];
                (value, p) = ReadValue(text, nameEnd + 1);
            }
            first = false;
            if (key == "id")
                continue;
            if (Array.IndexOf(_keys, key) < 0)
                throw new MachineOperationException($"Invalid parameter '{key}'");
            values[key] = value;  // the last occurrence wins, as qemu_opt_get finds it
        }
        return Load(values.GetValueOrDefault("name"), values.GetValueOrDefault("file"), values.GetValueOrDefault("string"), values.GetValueOrDefault("gen_id"));
    }

    /// <summary>Checks the option's values and reads the contents: a file's bytes, or the string without a NUL.</summary>
    public static FwCfgUserFile Load(string? name, string? file, string? text, string? genId = null)
    {
        var given = (NonEmpty(file) ? 1 : 0) + (NonEmpty(text) ? 1 : 0) + (NonEmpty(genId) ? 1 : 0);
        if (!NonEmpty(name) || given != 1)
            throw new MachineOperationException("name, plus exactly one of file, string and gen_id, are needed");
        if (Encoding.UTF8.GetByteCount(name) > FwCfg.MaxFileNameLength)
            throw new MachineOperationException($"name too long (max. {FwCfg.MaxFileNameLength} char)");
        if (NonEmpty(genId))
            throw new MachineOperationException($"Cannot find object ID '{genId}'");
        var warning = name.StartsWith("opt/", StringComparison.Ordinal) ? null : PrefixWarning;
        if (NonEmpty(text))
            return new FwCfgUserFile(name, Encoding.UTF8.GetBytes(text), warning);
        return new FwCfgUserFile(name, ReadFile(file!), warning);
    }

    private static bool NonEmpty([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? value) => !string.IsNullOrEmpty(value);

    // A value runs to the next single comma; ",," stands for one comma.
    private static (string Value, int Next) ReadValue(string text, int p)
    {
        var value = new StringBuilder();
        while (p < text.Length)
        {
            if (text[p] == ',')
            {
                if (p + 1 < text.Length && text[p + 1] == ',')
                {
                    value.Append(',');
                    p += 2;
                    continue;
                }
                return (value.ToString(), p + 1);
            }
            value.Append(text[p++]);
        }
        return (value.ToString(), p);
    }

    // g_file_get_contents' messages, which QEMU appends to "can't load PATH".
    private static byte[] ReadFile(string path)
    {
        try
        {
            if (Directory.Exists(path))
                throw new MachineOperationException($"can't load {path}: Failed to read from file “{path}”: Is a directory");
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new MachineOperationException($"can't load {path}: Failed to open file “{path}”: No such file or directory");
        }
        catch (UnauthorizedAccessException)
        {
            throw new MachineOperationException($"can't load {path}: Failed to open file “{path}”: Permission denied");
        }
        catch (IOException e)
        {
            throw new MachineOperationException($"can't load {path}: Failed to open file “{path}”: {e.Message}");
        }
    }
}
