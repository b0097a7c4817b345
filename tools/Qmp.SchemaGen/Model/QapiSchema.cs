using Qmp.SchemaGen.Parsing;
using Qmp.SchemaGen.Validation;

namespace Qmp.SchemaGen.Model;

/// <summary>
/// The checked model of a schema (scripts/qapi/schema.py): every name resolved, members and
/// branches checked for clashes, unions and alternates checked for soundness.
/// </summary>
internal sealed class QapiSchema
{
    private readonly Dictionary<string, QapiEntity> _entities = new(StringComparer.Ordinal);
    private readonly List<(QapiExpression Expr, string Meta, string Name, QapiSourceInfo Info)> _definitions = [];

    private QapiSchema(QapiPragmas pragmas) => Pragmas = pragmas;

    public QapiPragmas Pragmas { get; }

    /// <summary>All user definitions in schema order (modules in include order).</summary>
    public List<QapiEntity> Definitions { get; } = [];

    public IEnumerable<QapiCommand> Commands => Definitions.OfType<QapiCommand>();

    public IEnumerable<QapiEvent> Events => Definitions.OfType<QapiEvent>();

    public QapiObjectType Empty { get; } = new("q_empty", null, null, [], false, true);

    /// <summary>Parses, checks and models the schema rooted at <paramref name="path"/>.</summary>
    public static QapiSchema Load(string path)
    {
        var (expressions, pragmas) = QapiParser.ParseFile(path);
        var schema = new QapiSchema(pragmas);
        foreach (var builtin in QapiBuiltinType.All)
            schema._entities[builtin.Name] = builtin;
        schema._entities["q_empty"] = schema.Empty;
        foreach (var expression in expressions)
        {
            var (meta, name, info) = ExpressionChecker.Check(expression, pragmas);
            schema.CheckDoc(expression, name, info);
            schema._definitions.Add((expression, meta, name, info));
        }
        schema.Define();
        schema.Resolve();
        return schema;
    }

    public QapiEntity? Lookup(string name) => _entities.GetValueOrDefault(name);

    private void CheckDoc(QapiExpression expression, string name, QapiSourceInfo info)
    {
        var doc = expression.Doc;
        if (doc is null)
        {
            if (Pragmas.DocRequired)
                throw new QapiException(info, "documentation comment required");
            return;
        }
        if (doc.Symbol != name)
            throw new QapiException(doc.Info, $"documentation comment is for '{doc.Symbol}'");
    }

    private void Define()
    {
        foreach (var (expr, meta, name, info) in _definitions)
        {
            if (_entities.TryGetValue(name, out var existing))
            {
                if (existing.Info is null)
                    throw new QapiException(info, $"{existing.Describe()} is already defined");
                throw new QapiException(info, $"'{name}' is already defined\n{existing.Info.Format()}: previous definition");
            }
            var body = expr.Body;
            var features = Features(body);
            QapiEntity entity = meta switch
            {
                "enum" => new QapiEnumType(name, info, expr.Doc, features, EnumValues(body)),
                "struct" => new QapiObjectType(name, info, expr.Doc, features, false, false),
                "union" => new QapiObjectType(name, info, expr.Doc, features, true, false),
                "alternate" => new QapiAlternateType(name, info, expr.Doc, features),
                "command" => new QapiCommand(name, info, expr.Doc, features)
                {
                    Gen = body.GetValueOrDefault("gen") is not false,
                    Boxed = body.GetValueOrDefault("boxed") is true,
                    AllowOob = body.GetValueOrDefault("allow-oob") is true,
                    AllowPreconfig = body.GetValueOrDefault("allow-preconfig") is true,
                    SuccessResponse = body.GetValueOrDefault("success-response") is not false,
                },
                _ => new QapiEvent(name, info, expr.Doc, features) { Boxed = body.GetValueOrDefault("boxed") is true },
            };
            _entities[name] = entity;
            Definitions.Add(entity);
        }
    }

    private void Resolve()
    {
        // Structs' own members first, so bases and branches can be flattened in any order.
        foreach (var (expr, meta, name, info) in _definitions)
        {
            if (meta is "struct" or "union")
            {
                var type = (QapiObjectType)_entities[name];
                if (meta == "struct")
                    AddMembers(type, (QapiObjectType)type, (QapiObject)expr.Body["data"], info, "member");
            }
        }
        foreach (var (expr, meta, name, info) in _definitions)
        {
            var body = expr.Body;
            switch (_entities[name])
            {
                case QapiObjectType type when meta == "struct":
                    if (body.GetString("base") is { } baseName)
                        type.Base = ResolveBase(baseName, info);
                    break;
                case QapiObjectType union:
                    ResolveUnion(union, body, info);
                    break;
                case QapiAlternateType alternate:
                    ResolveAlternate(alternate, (QapiObject)body["data"], info);
                    break;
                case QapiCommand command:
                    command.ArgType = ResolveArguments(name, body.GetValueOrDefault("data"), info, "command", command.Boxed);
                    if (body.TryGetValue("returns", out var returns))
                        command.RetType = ResolveReturns(command, returns, info);
                    break;
                case QapiEvent ev:
                    ev.ArgType = ResolveArguments(name, body.GetValueOrDefault("data"), info, "event", ev.Boxed);
                    break;
            }
        }
        foreach (var type in Definitions.OfType<QapiObjectType>())
        {
            CheckBaseCycle(type);
            CheckClashes(type);
        }
        foreach (var (expr, _, name, _) in _definitions)
            CheckDocMembers(expr, _entities[name]);
    }

    private void AddMembers(QapiObjectType owner, QapiObjectType target, QapiObject data, QapiSourceInfo info, string role)
    {
        foreach (var (rawKey, rawArg) in data)
        {
            var optional = rawKey.StartsWith('*');
            var key = optional ? rawKey[1..] : rawKey;
            var arg = ExpressionChecker.Normalize(rawArg);
            var type = ResolveTypeRef(arg["type"], info, $"{role} '{key}'");
            target.LocalMembers.Add(new QapiMember(key, type, optional, Features(arg), owner));
        }
    }

    private QapiType ResolveTypeRef(object typeRef, QapiSourceInfo info, string what)
    {
        if (typeRef is List<object> list)
            return Array(ResolveTypeRef(list[0], info, what));
        var name = (string)typeRef;
        return _entities.GetValueOrDefault(name) as QapiType
            ?? throw new QapiException(info, $"{what} uses unknown type '{name}'");
    }

    private readonly Dictionary<string, QapiArrayType> _arrays = [];

    /// <summary>The one array type of <paramref name="element"/>.</summary>
    public QapiArrayType Array(QapiType element)
    {
        if (!_arrays.TryGetValue(element.Name, out var array))
            _arrays[element.Name] = array = new QapiArrayType(element);
        return array;
    }

    private QapiObjectType ResolveBase(string name, QapiSourceInfo info)
    {
        var type = _entities.GetValueOrDefault(name) as QapiType ?? throw new QapiException(info, $"'base' uses unknown type '{name}'");
        if (type is not QapiObjectType { IsUnion: false } baseType)
            throw new QapiException(info, $"'base' requires a struct type, {type.Describe()} isn't");
        return baseType;
    }

    private void ResolveUnion(QapiObjectType union, QapiObject body, QapiSourceInfo info)
    {
        if (body["base"] is QapiObject inlineBase)
        {
            var implicitBase = new QapiObjectType($"q_obj_{union.Name}-base", info, null, [], false, true);
            AddMembers(implicitBase, implicitBase, inlineBase, info, "member");
            union.Base = implicitBase;
        }
        else
        {
            union.Base = ResolveBase((string)body["base"], info);
        }
        var discriminator = (string)body["discriminator"];
        var tag = union.Base.Members.FirstOrDefault(m => m.Name == discriminator)
            ?? throw new QapiException(info, $"discriminator '{discriminator}' is not a member of 'base'");
        var baseDescription = union.Base.IsImplicit ? "'base'" : $"base type '{union.Base.Name}'";
        if (tag.Type is not QapiEnumType tagEnum)
            throw new QapiException(info, $"discriminator member '{discriminator}' of {baseDescription} must be of enum type");
        if (tag.Optional)
            throw new QapiException(info, $"discriminator member '{discriminator}' of {baseDescription} must not be optional");
        union.Tag = tag;
        var branches = (QapiObject)body["data"];
        if (branches.Count == 0)
            throw new QapiException(info, "union has no branches");
        foreach (var (key, value) in branches)
        {
            if (tagEnum.Values.All(v => v.Name != key))
                throw new QapiException(info, $"branch '{key}' is not a value of {tagEnum.Describe()}");
            var type = ResolveTypeRef(ExpressionChecker.Normalize(value)["type"], info, $"branch '{key}'");
            // A branch may be a union itself (QEMU's MigrationAddress carries SocketAddress): its tag and branch are
            // read from the same JSON object.
            if (type is not QapiObjectType branchType)
                throw new QapiException(info, $"branch '{key}' cannot use {type.Describe()}");
            union.Variants.Add(new QapiVariant(key, branchType));
        }
    }

    private void ResolveAlternate(QapiAlternateType alternate, QapiObject branches, QapiSourceInfo info)
    {
        var seen = new Dictionary<string, string>();
        foreach (var (key, value) in branches)
        {
            var type = ResolveTypeRef(ExpressionChecker.Normalize(value)["type"], info, $"branch '{key}'");
            if (type is QapiAlternateType || type.Name == "any" || type is QapiArrayType)
                throw new QapiException(info, $"branch '{key}' cannot use {type.Describe()}");
            // A plain str branch also takes numbers and booleans in keyval input, as in QEMU.
            string[] claims = type switch
            {
                QapiBuiltinType { Name: "str" } => ["string", "number", "boolean"],
                QapiEnumType => ["string"],
                QapiBuiltinType b when b.JsonType is "int" or "number" => ["number"],
                _ => [type.JsonType],
            };
            foreach (var claim in claims)
            {
                if (seen.TryGetValue(claim, out var other))
                    throw new QapiException(info, $"branch '{key}' can't be distinguished from '{other}'");
            }
            foreach (var claim in claims)
                seen[claim] = key;
            alternate.Branches.Add((key, type));
        }
    }

    private QapiObjectType? ResolveArguments(string owner, object? data, QapiSourceInfo info, string meta, bool boxed)
    {
        switch (data)
        {
            case null:
                return null;
            case QapiObject members:
                if (members.Count == 0)
                    return null;
                var implicitType = new QapiObjectType($"q_obj_{owner}-arg", info, null, [], false, true);
                AddMembers(implicitType, implicitType, members, info, "parameter");
                return implicitType;
            default:
                var name = (string)data;
                var type = _entities.GetValueOrDefault(name) as QapiType
                    ?? throw new QapiException(info, $"{meta}'s 'data' uses unknown type '{name}'");
                if (type is not QapiObjectType objectType)
                    throw new QapiException(info, $"{meta}'s 'data' cannot take {type.Describe()}");
                if (objectType.IsUnion && !boxed)
                    throw new QapiException(info, $"{meta}'s 'data' can take {type.Describe()} only with 'boxed': true");
                return objectType;
        }
    }

    private QapiType ResolveReturns(QapiCommand command, object returns, QapiSourceInfo info)
    {
        QapiType type;
        if (returns is List<object> list)
            type = Array(_entities.GetValueOrDefault((string)list[0]) as QapiType ?? throw new QapiException(info, $"command uses unknown type '{list[0]}'"));
        else
            type = _entities.GetValueOrDefault((string)returns) as QapiType ?? throw new QapiException(info, $"command's 'returns' uses unknown type '{returns}'");
        if (!Pragmas.CommandReturnsExceptions.Contains(command.Name))
        {
            var element = type is QapiArrayType array ? array.Element : type;
            if (element is not QapiObjectType)
                throw new QapiException(info, $"command's 'returns' cannot take {element.Describe()}");
        }
        return type;
    }

    private static void CheckBaseCycle(QapiObjectType type)
    {
        var seen = new HashSet<QapiObjectType>();
        for (var t = type; t is not null; t = t.Base)
        {
            if (!seen.Add(t))
                throw new QapiException(type.Info, $"object {type.Name} contains itself");
        }
    }

    private static void CheckClashes(QapiObjectType type) =>
        CheckBranchClashes(type, type, null, new Dictionary<string, QapiMember>(), [type]);

    // As QEMU's check_clash: each branch, and each branch of a union branch, against everything around it.
    private static void CheckBranchClashes(QapiObjectType type, QapiObjectType current, QapiObjectType? branch, Dictionary<string, QapiMember> seen, HashSet<QapiObjectType> nesting)
    {
        foreach (var member in current.Members)
            CheckClash(type, seen, member, branch);
        foreach (var variant in current.Variants)
        {
            if (!nesting.Add(variant.Type))
                throw new QapiException(type.Info, $"object {type.Name} contains itself");
            CheckBranchClashes(type, variant.Type, variant.Type, new Dictionary<string, QapiMember>(seen), nesting);
            nesting.Remove(variant.Type);
        }
    }

    private static void CheckClash(QapiObjectType type, Dictionary<string, QapiMember> seen, QapiMember member, QapiObjectType? branch)
    {
        var cname = QapiNames.CName(member.Name);
        if (seen.TryGetValue(cname, out var other))
        {
            string Where(QapiMember m) => m.Owner == type || m.Owner.IsImplicit ? "" : $" of type '{m.Owner.Name}'";
            var message = branch is not null
                ? $"member '{member.Name}' of type '{branch.Name}' collides with base member '{other.Name}'"
                : $"member '{member.Name}'{Where(member)} collides with member '{other.Name}'{Where(other)}";
            throw new QapiException(type.Info, message);
        }
        seen[cname] = member;
    }

    private static void CheckDocMembers(QapiExpression expr, QapiEntity entity)
    {
        if (expr.Doc is null)
            return;
        var names = entity switch
        {
            QapiObjectType o => o.LocalMembers.Select(m => m.Name).Concat(o.IsUnion && o.Base!.IsImplicit ? o.Base.Members.Select(m => m.Name) : []),
            QapiEnumType e => e.Values.Select(v => v.Name),
            QapiAlternateType a => a.Branches.Select(b => b.Name),
            QapiCommand c => c.ArgType is { IsImplicit: true } arg ? arg.Members.Select(m => m.Name) : [],
            QapiEvent e => e.ArgType is { IsImplicit: true } arg ? arg.Members.Select(m => m.Name) : [],
            _ => [],
        };
        var known = names.ToHashSet();
        var undocumented = expr.Doc.Args.Select(a => a.Name).Where(n => !known.Contains(n)).ToList();
        if (undocumented.Count == 1)
            throw new QapiException(expr.Doc.Info, $"documented member '{undocumented[0]}' does not exist");
        if (undocumented.Count > 1)
            throw new QapiException(expr.Doc.Info, $"documented members {string.Join(", ", undocumented.Select(n => $"'{n}'"))} do not exist");
        if (expr.Doc.SectionText("Returns") is not null && entity is not QapiCommand)
            throw new QapiException(expr.Doc.Info, "'Returns:' is only valid for commands");
        foreach (var feature in entity.Features)
        {
            if (expr.Doc.Features.All(f => f.Name != feature))
                throw new QapiException(expr.Doc.Info, $"feature '{feature}' lacks documentation");
        }
    }

    private static List<string> Features(QapiObject body) =>
        body.GetValueOrDefault("features") is List<object> list
            ? list.Select(f => f as string ?? ((QapiObject)f).GetString("name")!).ToList()
            : [];

    private static List<(string, IReadOnlyList<string>)> EnumValues(QapiObject body) =>
        ((List<object>)body["data"]).Select(v => v is string s
            ? (s, (IReadOnlyList<string>)[])
            : (((QapiObject)v).GetString("name")!, (IReadOnlyList<string>)Features((QapiObject)v))).ToList();
}
