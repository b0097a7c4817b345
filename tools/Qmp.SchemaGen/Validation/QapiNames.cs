using System.Text.RegularExpressions;

namespace Qmp.SchemaGen.Validation;

/// <summary>QAPI's naming rules (expr.py check_name_*).</summary>
internal static partial class QapiNames
{
    [GeneratedRegex(@"^(__[a-z0-9.-]+_)?(x-)?([a-z][a-z0-9_-]*)$", RegexOptions.IgnoreCase)]
    private static partial Regex ValidName();

    [GeneratedRegex(@"^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$")]
    private static partial Regex CamelStem();

    /// <summary>The stem after the downstream and <c>x-</c> prefixes, or null when the name is invalid.</summary>
    public static string? Stem(string name)
    {
        var match = ValidName().Match(name);
        if (!match.Success)
            return null;
        return CName(name).StartsWith("q_", StringComparison.Ordinal) ? null : match.Groups[3].Value;
    }

    public static bool IsCamel(string stem) => CamelStem().IsMatch(stem);

    /// <summary>The name as a C identifier: QEMU compares names in this form for clashes.</summary>
    public static string CName(string name) => name.Replace('-', '_').Replace('.', '_');
}
