using System.Text;
using Qmp.SchemaGen.Model;

namespace Qmp.SchemaGen.Emit;

/// <summary>Turns wire names into C# names, once, in one place.</summary>
internal static class CSharpNames
{
    private static readonly HashSet<string> _keywords =
    [
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const",
        "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern",
        "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface",
        "internal", "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile", "while",
    ];

    /// <summary><c>frontend-open</c> → <c>FrontendOpen</c>, <c>x86_64</c> → <c>X86_64</c>.</summary>
    public static string Pascal(string wire)
    {
        var sb = new StringBuilder();
        var upper = true;
        foreach (var c in wire)
        {
            if (c is '-' or '_' or '.')
            {
                upper = true;
                if (sb.Length > 0 && char.IsDigit(sb[^1]) && c == '_')
                    sb.Append('_');
                continue;
            }
            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        var result = sb.ToString();
        if (result.Length > 0 && char.IsDigit(result[0]))
            result = "_" + result;
        return result.Length > 1 && result.All(ch => char.IsUpper(ch) || char.IsDigit(ch)) ? result[0] + result[1..].ToLowerInvariant() : result;
    }

    /// <summary>A camelCase local name that is never a keyword.</summary>
    public static string Local(string wire)
    {
        var pascal = Pascal(wire);
        var local = char.ToLowerInvariant(pascal[0]) + pascal[1..];
        return _keywords.Contains(local) ? "@" + local : local;
    }

    /// <summary>The module's handler prefix: <c>run-state.json</c> → <c>RunState</c>.</summary>
    public static string Module(string file) => Pascal(Path.GetFileNameWithoutExtension(file));

    public static string TypeName(QapiType type) => type switch
    {
        QapiObjectType { IsImplicit: true } o => ImplicitName(o),
        _ => type.Name,
    };

    /// <summary><c>q_obj_human-monitor-command-arg</c> → <c>HumanMonitorCommandArguments</c>.</summary>
    public static string ImplicitName(QapiObjectType type)
    {
        var name = type.Name;
        if (name.StartsWith("q_obj_", StringComparison.Ordinal) && name.EndsWith("-arg", StringComparison.Ordinal))
            return Pascal(name[6..^4]) + "Arguments";
        if (name.StartsWith("q_obj_", StringComparison.Ordinal) && name.EndsWith("-base", StringComparison.Ordinal))
            return name[6..^5] + "Base";
        return Pascal(name);
    }

    public static string Event(QapiEvent ev) => Pascal(ev.Name.ToLowerInvariant()) + "Event";
}
