using System.Globalization;
using System.Text;
using Qmp.Block;
using Qmp.Block.Qcow2;

namespace Qmp.Img;

/// <summary>
/// <c>check [-q] [-U] [-f fmt] [--output=human|json] [-r leaks|all] [-T cache] filename</c>: the qcow2 driver's
/// consistency check (<see cref="Qcow2Node.CheckAsync"/>), printed as qemu-img does, with its exit codes:
/// 0 clean, 1 check failed, 2 corruptions, 3 leaks only, 63 the format has no checks.
/// </summary>
internal static class CheckCommand
{
    private const int OptionOutput = 256;

    private static readonly LongOption[] _longOptions =
    [
        new("help", false, 'h'),
        new("format", true, 'f'),
        new("repair", true, 'r'),
        new("output", true, OptionOutput),
        new("force-share", false, 'U'),
    ];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (options, operands) = GetOpt.Parse(args, ":hf:r:T:qU", _longOptions);
        string? format = null;
        string? output = null;
        var cache = CacheMode.Writeback;
        var repair = Qcow2RepairMode.None;
        var quiet = false;
        var forceShare = false;
        foreach (var option in options)
        {
            switch (option.Id)
            {
                case 'f': format = option.Argument; break;
                case 'r':
                    repair = option.Argument switch
                    {
                        "leaks" => Qcow2RepairMode.Leaks,
                        "all" => Qcow2RepairMode.All,
                        _ => throw new UsageException($"Unknown option value for -r (expecting 'leaks' or 'all'): {option.Argument}"),
                    };
                    break;
                case 'T': cache = ParseSourceCache(option.Argument); break;
                case 'q': quiet = true; break;
                case 'U': forceShare = true; break;
                case OptionOutput: output = option.Argument; break;
                default: return Usage.Print();
            }
        }
        if (operands.Count != 1)
            throw new UsageException("Expecting one image file name");
        var filename = operands[0];
        var outputFormat = OutputFormats.Parse(output);

        var image = await ImageHandle.OpenAsync(filename, new ImageOpenOptions
        {
            Format = format,
            Writable = repair != Qcow2RepairMode.None,
            ForceShare = forceShare,
            Cache = cache,
            ForRepair = repair != Qcow2RepairMode.None,
        }, cancellationToken).ConfigureAwait(false);
        await using (image.ConfigureAwait(false))
        {
            if (image.Root is not Qcow2Node qcow2)
                throw new ImgException("This image format does not support checks", 63);
            Qcow2CheckResult result;
            try
            {
                result = await qcow2.CheckAsync(repair, cancellationToken).ConfigureAwait(false);
            }
            catch (BlockException e)
            {
                throw new ImgException($"Check failed: {e.Reason}");
            }
            foreach (var message in result.Messages)
                Terminal.Error.Write(message + "\n");
            result = result with { Filename = filename };
            if (!quiet)
            {
                if (outputFormat == OutputFormat.Human && (result.LeaksFixed > 0 || result.CorruptionsFixed > 0))
                {
                    Terminal.Out.Write("The following inconsistencies were found and repaired:\n\n"
                        + string.Create(CultureInfo.InvariantCulture, $"    {result.LeaksFixed} leaked clusters\n    {result.CorruptionsFixed} corruptions\n\n")
                        + "Double checking the fixed image now...\n");
                }
                Terminal.Out.Write(outputFormat == OutputFormat.Json ? QJson.Pretty(ToQDict(result)) + "\n" : ToHuman(result));
            }
            if (result.CheckErrors > 0)
                throw new ImgException("Check failed");
            return result.ExitCode;
        }
    }

    /// <summary>bdrv_parse_cache_mode for -T, with check's error text.</summary>
    public static CacheMode ParseSourceCache(string name)
    {
        try
        {
            return CacheMode.Parse(name);
        }
        catch (ImgException)
        {
            throw new ImgException($"Invalid source cache option: {name}");
        }
    }

    /// <summary>ImageCheck as collect_image_check fills it: optional members only when non-zero.</summary>
    private static QDict ToQDict(Qcow2CheckResult result) =>
        new QDict()
            .Put("filename", result.Filename)
            .Put("format", result.Format)
            .Put("check-errors", (long)result.CheckErrors)
            .PutOptional("image-end-offset", NonZero(result.ImageEndOffset))
            .PutOptional("corruptions", NonZero(result.Corruptions))
            .PutOptional("leaks", NonZero(result.Leaks))
            .PutOptional("corruptions-fixed", NonZero(result.CorruptionsFixed))
            .PutOptional("leaks-fixed", NonZero(result.LeaksFixed))
            .PutOptional("total-clusters", NonZero(result.TotalClusters))
            .PutOptional("allocated-clusters", NonZero(result.AllocatedClusters))
            .PutOptional("fragmented-clusters", NonZero(result.FragmentedClusters))
            .PutOptional("compressed-clusters", NonZero(result.CompressedClusters));

    private static object? NonZero(long value) => value != 0 ? value : null;

    // dump_human_image_check.
    private static string ToHuman(Qcow2CheckResult check)
    {
        var text = new StringBuilder();
        if (check.Corruptions == 0 && check.Leaks == 0 && check.CheckErrors == 0)
        {
            text.Append("No errors were found on the image.\n");
        }
        else
        {
            if (check.Corruptions > 0)
                text.Append(CultureInfo.InvariantCulture, $"\n{check.Corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n");
            if (check.Leaks > 0)
                text.Append(CultureInfo.InvariantCulture, $"\n{check.Leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n");
            if (check.CheckErrors > 0)
                text.Append(CultureInfo.InvariantCulture, $"\n{check.CheckErrors} internal errors have occurred during the check.\n");
        }
        if (check.TotalClusters != 0 && check.AllocatedClusters != 0)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"{check.AllocatedClusters}/{check.TotalClusters} = {CFormat.F(check.AllocatedClusters * 100.0 / check.TotalClusters, 2)}% allocated, {CFormat.F(check.FragmentedClusters * 100.0 / check.AllocatedClusters, 2)}% fragmented, {CFormat.F(check.CompressedClusters * 100.0 / check.AllocatedClusters, 2)}% compressed clusters\n");
        }
        if (check.ImageEndOffset != 0)
            text.Append(CultureInfo.InvariantCulture, $"Image end offset: {check.ImageEndOffset}\n");
        return text.ToString();
    }
}
