namespace Qmp.Img;

/// <summary>
/// GNU getopt_long as qemu-img uses it (option string starting with ':'): options may follow file names
/// (arguments are permuted), short options cluster ("-pU") and take their argument attached or as the next
/// word, long options may be abbreviated and take "=value" or the next word, and "--" ends the options.
/// Errors are qemu-img's ("unrecognized option '-x'", "missing argument for option '-f'").
/// </summary>
internal static class GetOpt
{
    public static (List<ParsedOption> Options, List<string> Operands) Parse(IReadOnlyList<string> args, string shortSpec, IReadOnlyList<LongOption>? longOptions = null)
    {
        var options = new List<ParsedOption>();
        var operands = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                for (i++; i < args.Count; i++)
                    operands.Add(args[i]);
                break;
            }
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                options.Add(ParseLong(args, ref i, longOptions ?? []));
                continue;
            }
            if (arg.Length < 2 || arg[0] != '-')
            {
                operands.Add(arg);
                continue;
            }
            for (var j = 1; j < arg.Length; j++)
            {
                var letter = arg[j];
                var at = shortSpec.IndexOf(letter, StringComparison.Ordinal);
                if (letter == ':' || at < 0)
                    throw new UsageException($"unrecognized option '{arg}'");
                if (at + 1 < shortSpec.Length && shortSpec[at + 1] == ':')
                {
                    string value;
                    if (j + 1 < arg.Length)
                        value = arg[(j + 1)..];
                    else if (i + 1 < args.Count)
                        value = args[++i];
                    else
                        throw new UsageException($"missing argument for option '{arg}'");
                    options.Add(new ParsedOption(letter, value));
                    break;
                }
                options.Add(new ParsedOption(letter, null));
            }
        }
        return (options, operands);
    }

    private static ParsedOption ParseLong(IReadOnlyList<string> args, ref int i, IReadOnlyList<LongOption> longOptions)
    {
        var arg = args[i];
        var body = arg[2..];
        var equals = body.IndexOf('=', StringComparison.Ordinal);
        var name = equals < 0 ? body : body[..equals];
        // An exact name wins; otherwise a unique prefix (glibc accepts abbreviations).
        var option = longOptions.FirstOrDefault(o => o.Name == name);
        if (option is null)
        {
            var candidates = longOptions.Where(o => o.Name.StartsWith(name, StringComparison.Ordinal)).ToList();
            if (name.Length == 0 || candidates.Count == 0 || candidates.Any(c => c.Id != candidates[0].Id))
                throw new UsageException($"unrecognized option '{arg}'");
            option = candidates[0];
        }
        if (!option.HasArgument)
        {
            if (equals >= 0)
                throw new UsageException($"unrecognized option '{arg}'");
            return new ParsedOption(option.Id, null);
        }
        if (equals >= 0)
            return new ParsedOption(option.Id, body[(equals + 1)..]);
        if (i + 1 >= args.Count)
            throw new UsageException($"missing argument for option '{arg}'");
        return new ParsedOption(option.Id, args[++i]);
    }
}
