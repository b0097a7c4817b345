namespace Qmp.SchemaGen.Parsing;

/// <summary>The schema-wide pragmas of QAPI 7.2.</summary>
internal sealed class QapiPragmas
{
    public bool DocRequired { get; private set; }

    public HashSet<string> CommandNameExceptions { get; } = [];

    public HashSet<string> CommandReturnsExceptions { get; } = [];

    public HashSet<string> MemberNameExceptions { get; } = [];

    public void Apply(QapiObject pragma, QapiSourceInfo info)
    {
        foreach (var (name, value) in pragma)
        {
            switch (name)
            {
                case "doc-required":
                    if (value is not bool b)
                        throw new QapiException(info, "pragma 'doc-required' must be boolean");
                    DocRequired = b;
                    break;
                case "command-name-exceptions":
                    AddAll(CommandNameExceptions, name, value, info);
                    break;
                case "command-returns-exceptions":
                    AddAll(CommandReturnsExceptions, name, value, info);
                    break;
                case "member-name-exceptions":
                    AddAll(MemberNameExceptions, name, value, info);
                    break;
                default:
                    throw new QapiException(info, $"unknown pragma '{name}'");
            }
        }
    }

    private static void AddAll(HashSet<string> set, string name, object value, QapiSourceInfo info)
    {
        if (value is not List<object> list || list.Any(v => v is not string))
            throw new QapiException(info, $"pragma {name} must be a list of strings");
        foreach (string s in list)
            set.Add(s);
    }
}
