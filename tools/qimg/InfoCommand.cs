namespace Qmp.Img;

/// <summary>
/// <c>info [-f fmt] [--output=human|json] [--backing-chain] [-U] filename</c>: opens each image of the chain on its
/// own without its backing file (BDRV_O_NO_BACKING), collects QEMU's ImageInfo and prints it.
/// </summary>
internal static class InfoCommand
{
    private const int OptionOutput = 256;
    private const int OptionBackingChain = 257;

    private static readonly LongOption[] _longOptions =
    [
        new("help", false, 'h'),
        new("format", true, 'f'),
        new("output", true, OptionOutput),
        new("backing-chain", false, OptionBackingChain),
        new("force-share", false, 'U'),
    ];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (options, operands) = GetOpt.Parse(args, ":f:hU", _longOptions);
        string? format = null;
        string? output = null;
        var chain = false;
        var forceShare = false;
        foreach (var option in options)
        {
            switch (option.Id)
            {
                case 'f': format = option.Argument; break;
                case 'U': forceShare = true; break;
                case OptionOutput: output = option.Argument; break;
                case OptionBackingChain: chain = true; break;
                default: return Usage.Print();
            }
        }
        if (operands.Count != 1)
            throw new UsageException("Expecting one image file name");
        var outputFormat = OutputFormats.Parse(output);

        var infos = new List<Qmp.Block.BlockImageInfo>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? filename = operands[0];
        while (filename is not null)
        {
            if (!seen.Add(filename))
                throw new ImgException($"Backing file '{filename}' creates an infinite loop.");
            var image = await ImageHandle.OpenAsync(filename, new ImageOpenOptions { Format = format, ForceShare = forceShare, NoBacking = true }, cancellationToken).ConfigureAwait(false);
            await using (image.ConfigureAwait(false))
            {
                var info = image.Root.DescribeImage() with { BackingImage = null, VirtualSize = BlockStatusQuery.VirtualLength(image.Root) };
                infos.Add(info);
                filename = null;
                format = null;
                if (chain && info.BackingFilename is { Length: > 0 })
                {
                    filename = info.FullBackingFilename
                        ?? throw new ImgException($"Could not determine absolute backing filename, but backing filename '{info.BackingFilename}' present");
                    format = info.BackingFilenameFormat is { Length: > 0 } backingFormat ? backingFormat : null;
                }
            }
        }

        if (outputFormat == OutputFormat.Json)
        {
            object json = chain ? infos.Select(ImageInfoPrinter.ToQDict).ToList() : ImageInfoPrinter.ToQDict(infos[0]);
            Terminal.Out.Write(QJson.Pretty(json) + "\n");
        }
        else
        {
            Terminal.Out.Write(string.Join("\n", infos.Select(ImageInfoPrinter.ToHuman)));
        }
        return 0;
    }
}
