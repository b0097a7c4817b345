using Qmp.Block;

namespace Qmp.Img;

/// <summary>
/// <c>resize [-f fmt] [-q] [--shrink] [--preallocation=mode] filename [+|-]size</c>: the last word is always the
/// size (so "-1G" is not an option), relative with + or -; shrinking needs --shrink.
/// </summary>
internal static class ResizeCommand
{
    private const int OptionPreallocation = 256;
    private const int OptionShrink = 257;

    private static readonly LongOption[] _longOptions =
    [
        new("help", false, 'h'),
        new("preallocation", true, OptionPreallocation),
        new("shrink", false, OptionShrink),
    ];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        if (args.Count < 2)
            throw new UsageException("Not enough arguments");
        var sizeText = args[^1];
        var (options, operands) = GetOpt.Parse(args.Take(args.Count - 1).ToList(), ":f:hq", _longOptions);
        string? format = null;
        var quiet = false;
        var shrink = false;
        var preallocation = "off";
        foreach (var option in options)
        {
            switch (option.Id)
            {
                case 'f': format = option.Argument; break;
                case 'q': quiet = true; break;
                case OptionShrink: shrink = true; break;
                case OptionPreallocation:
                    preallocation = option.Argument;
                    if (preallocation is not ("off" or "metadata" or "falloc" or "full"))
                        throw new ImgException($"Invalid preallocation mode '{preallocation}'");
                    break;
                default: return Usage.Print();
            }
        }
        if (operands.Count != 1)
            throw new UsageException("Expecting image file name and size");
        var relative = sizeText.StartsWith('+') ? 1 : sizeText.StartsWith('-') ? -1 : 0;
        if (relative != 0)
            sizeText = sizeText[1..];
        if (SizeParser.TryParse(sizeText, out var amount) != SizeParser.Result.Ok)
        {
            throw new ImgException("Parameter 'size' expects a non-negative number below 2^64\n"
                + "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively.");
        }

        var image = await ImageHandle.OpenAsync(operands[0], new ImageOpenOptions { Format = format, Writable = true }, cancellationToken).ConfigureAwait(false);
        await using (image.ConfigureAwait(false))
        {
            var current = BlockStatusQuery.VirtualLength(image.Root);
            var total = relative == 0 ? (long)amount : current + (relative * (long)amount);
            if (total <= 0)
                throw new ImgException("New image size must be positive");
            if (total <= current && preallocation != "off")
                throw new ImgException("Preallocation can only be used for growing images");
            if (total < current && !shrink)
            {
                Terminal.Report("Use the --shrink option to perform a shrink operation.");
                Terminal.Warn("Shrinking an image will delete all data beyond the shrunken image's end. Before performing such an operation, make sure there is no important data there.");
                return 1;
            }
            if (preallocation != "off" && image.Format != "raw")
                throw new ImgException($"Unsupported preallocation mode '{preallocation}'");
            try
            {
                await image.Root.TruncateAsync(total, cancellationToken).ConfigureAwait(false);
                if (preallocation is "falloc" or "full" && total > current)
                    await image.Root.WriteZeroesAsync(current, total - current, BlockWriteFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (BlockException e)
            {
                throw new ImgException(e.Message);
            }
            if (!quiet)
                Terminal.Out.Write("Image resized.\n");
            return 0;
        }
    }
}
