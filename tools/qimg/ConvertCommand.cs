using System.Globalization;
using System.Numerics;
using Qmp.Block.Qcow2;

namespace Qmp.Img;

/// <summary>
/// <c>convert [-f fmt] [-O fmt] [-o options] [-p] [-q] [-n] [-W] [-m n] [-S size] [-t cache] [-T cache] [-U]
/// [--target-is-zero] src... dst</c>: creates the target (unless -n) as large as the sources together and copies
/// them into it with <see cref="ConvertJob"/>. Default target cache is "unsafe" (no flushes), as in qemu-img.
/// </summary>
internal static class ConvertCommand
{
    private const int OptionTargetIsZero = 256;
    private const int MaxWorkers = 16;

    private static readonly LongOption[] _longOptions =
    [
        new("help", false, 'h'),
        new("force-share", false, 'U'),
        new("target-is-zero", false, OptionTargetIsZero),
    ];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (options, operands) = GetOpt.Parse(args, ":hf:O:B:Cco:l:S:pt:T:qnm:WUr:", _longOptions);
        string? format = null;
        var outputFormat = "raw";
        var optionLists = new List<string>();
        string targetCache = "unsafe";
        string sourceCache = "writeback";
        bool progress = false, quiet = false, skipCreate = false, forceShare = false, targetIsZero = false;
        var settings = new ConvertSettings();
        foreach (var option in options)
        {
            switch (option.Id)
            {
                case 'f': format = option.Argument; break;
                case 'O': outputFormat = option.Argument; break;
                case 'o': optionLists.Add(option.Argument); break;
                case 'p': progress = true; break;
                case 'q': quiet = true; break;
                case 'n': skipCreate = true; break;
                case 'W': settings = settings with { InOrder = false }; break;
                case 'U': forceShare = true; break;
                case 't': targetCache = option.Argument; break;
                case 'T': sourceCache = option.Argument; break;
                case 'C': break;
                case 'r': break;
                case 'm':
                    if (!int.TryParse(option.Argument, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var workers) || workers is < 1 or > MaxWorkers)
                        throw new ImgException($"Invalid number of coroutines. Allowed number of coroutines is between 1 and {MaxWorkers}");
                    settings = settings with { Workers = workers };
                    break;
                case 'S':
                    settings = settings with { MinSparseSectors = ParseSparseSize(option.Argument) };
                    break;
                case OptionTargetIsZero: targetIsZero = true; break;
                case 'c': throw new ImgException("Compressed output (-c) is not supported");
                case 'B': throw new ImgException("A backing file for the target (-B) is not supported");
                case 'l': throw new ImgException("Converting from internal snapshots (-l) is not supported");
                default: return Usage.Print();
            }
        }
        if (quiet)
            progress = false;
        if (operands.Count < 2)
            throw new ImgException("Must specify image file name");
        if (targetIsZero && !skipCreate)
            throw new ImgException("--target-is-zero requires use of -n flag");
        if (skipCreate && optionLists.Count > 0)
        {
            Terminal.Warn("-o has no effect when skipping image creation");
            Terminal.Warn("This will become an error in future QEMU versions.");
        }
        var targetPath = operands[^1];
        var createOptions = CreateOptionList.For(outputFormat) ?? throw new ImgException($"Unknown file format '{outputFormat}'");
        foreach (var text in optionLists)
            createOptions.Parse(text);
        var source = ParseCache(sourceCache, "Invalid source cache option: ");
        var target = ParseCache(targetCache, "Invalid cache option: ");

        var meter = new Progress(progress, 1.0f);
        var sources = new List<ImageHandle>();
        try
        {
            foreach (var path in operands.Take(operands.Count - 1))
                sources.Add(await ImageHandle.OpenAsync(path, new ImageOpenOptions { Format = format, ForceShare = forceShare, Cache = source }, cancellationToken).ConfigureAwait(false));
            var total = sources.Sum(s => ConvertJob.SourceLength(s.Root));
            if (!skipCreate)
                await CreateTargetAsync(targetPath, outputFormat, createOptions, total, cancellationToken).ConfigureAwait(false);
            var output = await ImageHandle.OpenAsync(targetPath, new ImageOpenOptions { Format = outputFormat, Writable = true, Cache = target }, cancellationToken).ConfigureAwait(false);
            await using (output.ConfigureAwait(false))
            {
                if (skipCreate && BlockStatusQuery.VirtualLength(output.Root) < total)
                    throw new ImgException("output file is smaller than input file");
                var zeroAlignment = output.Root is Qcow2Node qcow2 ? qcow2.ClusterSize / SparseScanner.SectorSize : 1;
                settings = settings with
                {
                    TargetZeroInitialized = !skipCreate || targetIsZero,
                    AlignmentSectors = Math.Max(settings.MinSparseSectors > 0 ? (int)BitOperations.RoundUpToPowerOf2((uint)settings.MinSparseSectors + 1) / 2 : 1, zeroAlignment),
                    ShowProgress = progress,
                };
                meter.Print(0, 100);
                await new ConvertJob(sources, output.Root, settings, meter).RunAsync(cancellationToken).ConfigureAwait(false);
                if (!target.NoFlush)
                    await output.Root.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            meter.Print(100, 0);
            return 0;
        }
        finally
        {
            foreach (var handle in sources)
                await handle.DisposeAsync().ConfigureAwait(false);
            meter.End();
        }
    }

    private static async Task CreateTargetAsync(string path, string format, CreateOptionList options, long size, CancellationToken cancellationToken)
    {
        try
        {
            options.Set("size", size.ToString(CultureInfo.InvariantCulture));
            await ImageCreator.CreateAsync(path, format, options, null, openBacking: true, quiet: true, cancellationToken).ConfigureAwait(false);
        }
        catch (ImgException e)
        {
            // CreateAsync says "path: message"; convert says which conversion failed.
            var message = e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message;
            throw new ImgException($"{path}: error while converting {format}: {message}");
        }
    }

    private static CacheMode ParseCache(string name, string error)
    {
        try
        {
            return CacheMode.Parse(name);
        }
        catch (ImgException)
        {
            throw new ImgException(error + name);
        }
    }

    /// <summary>-S: a multiple of 512 up to 16 MiB (QEMU's MAX_BUF_SECTORS), in sectors.</summary>
    private static int ParseSparseSize(string text)
    {
        if (SizeParser.TryParse(text, out var bytes) != SizeParser.Result.Ok || bytes > long.MaxValue)
        {
            Terminal.Report("Invalid buffer size for sparse output specified. You may use k, M, G, T, P or E suffixes for");
            throw new ImgException("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
        }
        const ulong maxBytes = 16 << 20;
        if (bytes % 512 != 0 || bytes > maxBytes)
            throw new ImgException($"Invalid buffer size for sparse output specified. Valid sizes are multiples of 512 up to {maxBytes}. Select 0 to disable sparse detection (fully allocates output).");
        return (int)(bytes / 512);
    }
}
