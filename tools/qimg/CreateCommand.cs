namespace Qmp.Img;

/// <summary>
/// <c>create [-q] [-f fmt] [-b backing_file [-F backing_fmt]] [-u] [-o options] filename [size]</c>: a new raw or
/// qcow2 image, with qemu-img's option handling, "Formatting …" line and errors.
/// </summary>
internal static class CreateCommand
{
    private static readonly LongOption[] _longOptions = [new("help", false, 'h'), new("object", true, 'O')];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (options, operands) = GetOpt.Parse(args, ":F:b:f:ho:qu", _longOptions);
        var format = "raw";
        string? backingFile = null;
        string? backingFormat = null;
        var optionLists = new List<string>();
        var quiet = false;
        var unsafeBacking = false;
        foreach (var option in options)
        {
            switch (option.Id)
            {
                case 'F': backingFormat = option.Argument; break;
                case 'b': backingFile = option.Argument; break;
                case 'f': format = option.Argument; break;
                case 'o': optionLists.Add(option.Argument); break;
                case 'q': quiet = true; break;
                case 'u': unsafeBacking = true; break;
                case 'h': return Usage.Print();
                default: throw new ImgException("--object is not supported");
            }
        }
        if (operands.Count == 0)
            throw new UsageException("Expecting image file name");
        var filename = operands[0];
        long? size = operands.Count > 1 ? ParseImageSize(operands[1]) : null;
        if (operands.Count > 2)
            throw new UsageException($"Unexpected argument: {operands[2]}");
        var list = CreateOptionList.For(format) ?? throw new ImgException($"{filename}: Unknown file format '{format}'");
        try
        {
            foreach (var text in optionLists)
                list.Parse(text);
            if (backingFile is not null)
            {
                if (!list.Accepts("backing_file"))
                    throw new ImgException($"Backing file not supported for file format '{format}'");
                list.Set("backing_file", backingFile);
            }
            if (backingFormat is not null)
            {
                if (!list.Accepts("backing_fmt"))
                    throw new ImgException($"Backing file format not supported for file format '{format}'");
                list.Set("backing_fmt", backingFormat);
            }
        }
        catch (ImgException e)
        {
            throw new ImgException($"{filename}: {e.Message}");
        }
        await ImageCreator.CreateAsync(filename, format, list, size, openBacking: !unsafeBacking, quiet, cancellationToken).ConfigureAwait(false);
        return 0;
    }

    /// <summary>cvtnum("image size", …): a size below 2^63, with qemu-img's two-line complaint otherwise.</summary>
    public static long ParseImageSize(string text)
    {
        switch (SizeParser.TryParse(text, out var value))
        {
            case SizeParser.Result.Invalid:
                Terminal.Report("Invalid image size specified. You may use k, M, G, T, P or E suffixes for");
                throw new ImgException("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
            case SizeParser.Result.Ok when value <= long.MaxValue:
                return (long)value;
            default:
                throw new ImgException($"Invalid image size specified. Must be between 0 and {long.MaxValue}.");
        }
    }
}
