using Qmp.SchemaGen.Parsing;

namespace Qmp.SchemaGen.Validation;

/// <summary>
/// Checks each expression's shape before the model is built (scripts/qapi/expr.py): meta key,
/// allowed keys, names, flags, features and the forms of 'data', 'base' and 'returns'.
/// Messages are QEMU's.
/// </summary>
internal static class ExpressionChecker
{
    private static readonly string[] _metas = ["enum", "struct", "union", "alternate", "command", "event"];

    private static readonly Dictionary<string, (string[] Required, string[] Optional)> _keys = new()
    {
        ["enum"] = (["enum", "data"], ["if", "features", "prefix"]),
        ["struct"] = (["struct", "data"], ["base", "if", "features"]),
        ["union"] = (["union", "base", "discriminator", "data"], ["if", "features"]),
        ["alternate"] = (["alternate", "data"], ["if", "features"]),
        ["command"] = (["command"], ["data", "returns", "boxed", "if", "features", "gen", "success-response", "allow-oob", "allow-preconfig", "coroutine"]),
        ["event"] = (["event"], ["data", "boxed", "if", "features"]),
    };

    /// <summary>Checks one expression; returns its meta kind and its source info with the definition set.</summary>
    public static (string Meta, string Name, QapiSourceInfo Info) Check(QapiExpression expression, QapiPragmas pragmas)
    {
        var expr = expression.Body;
        var info = expression.Info;
        var metas = _metas.Where(expr.ContainsKey).ToList();
        if (metas.Count != 1)
            throw new QapiException(info, "expression must have exactly one key " + string.Join(", ", _metas.Select(m => $"'{m}'")));
        var meta = metas[0];
        if (expr[meta] is not string name)
            throw new QapiException(info, $"'{meta}' requires a string name");
        info = info with { Definition = $"{meta} '{name}'" };

        CheckKeys(expr, info, meta, _keys[meta].Required, _keys[meta].Optional);
        if (expr.ContainsKey("if"))
            throw new QapiException(info, "'if' is not supported: qmpd builds every definition unconditionally");
        CheckFlags(expr, info);
        CheckNameOf(meta, name, info, pragmas);
        CheckFeatures(expr.GetValueOrDefault("features"), info, meta is "enum" or "struct" or "union" or "alternate");

        switch (meta)
        {
            case "enum":
                CheckEnum(expr, info, name, pragmas);
                break;
            case "struct":
                CheckType(expr["data"], info, "'data'", allowDict: name, pragmas: pragmas);
                CheckType(expr.GetValueOrDefault("base"), info, "'base'", pragmas: pragmas);
                break;
            case "union":
                CheckUnion(expr, info, name, pragmas);
                break;
            case "alternate":
                CheckAlternate(expr, info, name, pragmas);
                break;
            case "command":
            case "event":
                var boxed = expr.GetValueOrDefault("boxed") is true;
                if (boxed && !expr.ContainsKey("data"))
                    throw new QapiException(info, "'boxed': true requires 'data'");
                CheckType(expr.GetValueOrDefault("data"), info, "'data'", allowDict: boxed ? null : name, pragmas: pragmas);
                if (meta == "command")
                    CheckType(expr.GetValueOrDefault("returns"), info, "'returns'", allowArray: true, pragmas: pragmas);
                break;
        }
        return (meta, name, info);
    }

    private static void CheckKeys(QapiObject obj, QapiSourceInfo info, string source, string[] required, string[] optional)
    {
        static string Pprint(IEnumerable<string> keys) => string.Join(", ", keys.Order(StringComparer.Ordinal).Select(k => $"'{k}'"));
        var missing = required.Where(k => !obj.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new QapiException(info, $"{source} misses key{(missing.Count > 1 ? "s" : "")} {Pprint(missing)}");
        var unknown = obj.Keys.Where(k => !required.Contains(k) && !optional.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new QapiException(info, $"{source} has unknown key{(unknown.Count > 1 ? "s" : "")} {Pprint(unknown)}\nValid keys are {Pprint(required.Concat(optional))}.");
    }

    private static void CheckFlags(QapiObject expr, QapiSourceInfo info)
    {
        foreach (var key in new[] { "gen", "success-response" })
        {
            if (expr.TryGetValue(key, out var v) && v is not false)
                throw new QapiException(info, $"flag '{key}' may only use false value");
        }
        foreach (var key in new[] { "boxed", "allow-oob", "allow-preconfig", "coroutine" })
        {
            if (expr.TryGetValue(key, out var v) && v is not true)
                throw new QapiException(info, $"flag '{key}' may only use true value");
        }
        if (expr.ContainsKey("allow-oob") && expr.ContainsKey("coroutine"))
            throw new QapiException(info, "flags 'allow-oob' and 'coroutine' are incompatible");
    }

    private static void CheckNameOf(string meta, string name, QapiSourceInfo info, QapiPragmas pragmas)
    {
        var stem = QapiNames.Stem(name) ?? throw new QapiException(info, $"{meta} has an invalid name");
        switch (meta)
        {
            case "event":
                if (stem.Any(char.IsLower) || stem.Contains('-'))
                    throw new QapiException(info, "name of event must not use lowercase or '-'");
                break;
            case "command":
                if (!pragmas.CommandNameExceptions.Contains(name) && (stem.Any(char.IsUpper) || stem.Contains('_')))
                    throw new QapiException(info, "name of command must not use uppercase or '_'");
                break;
            default:
                if (!QapiNames.IsCamel(stem))
                    throw new QapiException(info, $"name of {meta} must use CamelCase");
                if (name.EndsWith("List", StringComparison.Ordinal))
                    throw new QapiException(info, $"{meta} name should not end in 'List'");
                break;
        }
    }

    /// <summary>Members, branches and features: lower case, dashes, no reserved C names.</summary>
    public static void CheckNameLower(string name, QapiSourceInfo info, string source, bool permitUpper = false, bool permitUnderscore = false)
    {
        var stem = QapiNames.Stem(name) ?? throw new QapiException(info, $"{source} has an invalid name");
        if ((!permitUpper && stem.Any(char.IsUpper)) || (!permitUnderscore && stem.Contains('_')))
            throw new QapiException(info, $"name of {source} must not use uppercase or '_'");
    }

    private static void CheckFeatures(object? features, QapiSourceInfo info, bool isType)
    {
        if (features is null)
            return;
        if (features is not List<object> list)
            throw new QapiException(info, "'features' must be an array");
        var seen = new HashSet<string>();
        foreach (var feature in list)
        {
            var name = feature switch
            {
                string s => s,
                QapiObject o when o.GetString("name") is { } n && o.Keys.All(k => k == "name") => n,
                QapiObject o when o.ContainsKey("if") => throw new QapiException(info, "'if' is not supported: qmpd builds every definition unconditionally"),
                _ => throw new QapiException(info, "'features' member should be a string or an object with key 'name'"),
            };
            CheckNameLower(name, info, $"feature '{name}'");
            if (!seen.Add(name))
                throw new QapiException(info, $"feature '{name}' collides with feature '{name}'");
            if (isType && name is "deprecated" or "unstable")
                throw new QapiException(info, $"feature '{name}' is not supported for types");
        }
    }

    private static void CheckEnum(QapiObject expr, QapiSourceInfo info, string name, QapiPragmas pragmas)
    {
        if (expr["data"] is not List<object> members)
            throw new QapiException(info, "'data' must be an array");
        if (expr.TryGetValue("prefix", out var prefix) && prefix is not string)
            throw new QapiException(info, "'prefix' must be a string");
        var permit = pragmas.MemberNameExceptions.Contains(name);
        var seen = new Dictionary<string, string>();
        foreach (var member in members)
        {
            string value;
            if (member is string s)
            {
                value = s;
            }
            else if (member is QapiObject o && o.GetString("name") is { } n)
            {
                CheckKeys(o, info, $"'data' member '{n}'", ["name"], ["if", "features"]);
                if (o.ContainsKey("if"))
                    throw new QapiException(info, "'if' is not supported: qmpd builds every definition unconditionally");
                CheckFeatures(o.GetValueOrDefault("features"), info, false);
                value = n;
            }
            else
            {
                throw new QapiException(info, "'data' member requires a string name");
            }
            var source = $"'data' member '{value}'";
            // Enum values may start with a digit.
            var checkedName = value.Length > 0 && char.IsDigit(value[0]) ? "d" + value : value;
            if (QapiNames.Stem(checkedName) is null)
                throw new QapiException(info, $"{source} has an invalid name");
            CheckNameLower(checkedName, info, source, permit, permit);
            var cname = QapiNames.CName(value);
            if (seen.TryGetValue(cname, out var other))
                throw new QapiException(info, $"value '{value}' collides with value '{other}'");
            seen[cname] = value;
        }
    }

    private static void CheckUnion(QapiObject expr, QapiSourceInfo info, string name, QapiPragmas pragmas)
    {
        CheckType(expr["base"], info, "'base'", allowDict: name, pragmas: pragmas);
        if (expr["discriminator"] is not string)
            throw new QapiException(info, "'discriminator' requires a string name");
        if (expr["data"] is not QapiObject branches)
            throw new QapiException(info, "'data' must be an object");
        foreach (var (key, value) in branches)
        {
            var source = $"'data' member '{key}'";
            CheckNameLower(key, info, source, pragmas.MemberNameExceptions.Contains(name), pragmas.MemberNameExceptions.Contains(name));
            var branch = Normalize(value);
            CheckKeys(branch, info, source, ["type"], ["if"]);
            CheckType(branch["type"], info, source, pragmas: pragmas);
        }
    }

    private static void CheckAlternate(QapiObject expr, QapiSourceInfo info, string name, QapiPragmas pragmas)
    {
        if (expr["data"] is not QapiObject branches)
            throw new QapiException(info, "'data' must be an object");
        if (branches.Count == 0)
            throw new QapiException(info, "'data' must not be empty");
        foreach (var (key, value) in branches)
        {
            var source = $"'data' member '{key}'";
            CheckNameLower(key, info, source);
            var branch = Normalize(value);
            CheckKeys(branch, info, source, ["type"], ["if"]);
            CheckType(branch["type"], info, source, pragmas: pragmas);
        }
    }

    /// <summary>Turns a member written as a bare type into <c>{'type': ...}</c>.</summary>
    public static QapiObject Normalize(object value) =>
        value as QapiObject ?? new QapiObject { ["type"] = value };

    private static void CheckType(object? value, QapiSourceInfo info, string source, bool allowArray = false, string? allowDict = null, QapiPragmas? pragmas = null)
    {
        switch (value)
        {
            case null or string:
                return;
            case List<object> list:
                if (!allowArray)
                    throw new QapiException(info, $"{source} cannot be an array");
                if (list.Count != 1 || list[0] is not string)
                    throw new QapiException(info, $"{source}: array type must contain single type name");
                return;
            case QapiObject members:
                if (allowDict is null)
                    throw new QapiException(info, $"{source} should be a type name");
                var permit = pragmas?.MemberNameExceptions.Contains(allowDict) ?? false;
                foreach (var (rawKey, rawArg) in members)
                {
                    var keySource = $"{source} member '{rawKey}'";
                    var key = rawKey.StartsWith('*') ? rawKey[1..] : rawKey;
                    CheckNameLower(key, info, keySource, permit, permit);
                    var cname = QapiNames.CName(key);
                    if (cname == "u" || cname.StartsWith("has_", StringComparison.Ordinal))
                        throw new QapiException(info, $"{keySource} uses reserved name");
                    var arg = Normalize(rawArg);
                    CheckKeys(arg, info, keySource, ["type"], ["if", "features"]);
                    if (arg.ContainsKey("if"))
                        throw new QapiException(info, "'if' is not supported: qmpd builds every definition unconditionally");
                    CheckFeatures(arg.GetValueOrDefault("features"), info, false);
                    CheckType(arg["type"], info, keySource, allowArray: true, pragmas: pragmas);
                }
                return;
            default:
                throw new QapiException(info, $"{source} should be an object or type name");
        }
    }
}
