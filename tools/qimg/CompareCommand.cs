namespace Qmp.Img;

/// <summary>
/// <c>compare [-f fmt] [-F fmt] [-T cache] [-p] [-q] [-s] [-U] filename1 filename2</c>: qemu-img's algorithm (walk both
/// chains' block status, compare only where data can differ, an extra tail must read as zeroes unless -s) with
/// its messages and exit codes (0 identical, 1 different, 2 open failed, 3 status failed, 4 read failed); reads
/// run ahead of the comparison, several 2 MiB requests at a time.
/// </summary>
internal static class CompareCommand
{
    private static readonly LongOption[] _longOptions = [new("help", false, 'h'), new("force-share", false, 'U')];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (options, operands) = GetOpt.Parse(args, ":hf:F:T:pqsU", _longOptions);
        string? format1 = null;
        string? format2 = null;
        string cache = "writeback";
        bool showProgress = false, quiet = false, strict = false, forceShare = false;
        foreach (var option in options)
        {
            switch (option.Id)
            {
                case 'f': format1 = option.Argument; break;
                case 'F': format2 = option.Argument; break;
                case 'T': cache = option.Argument; break;
                case 'p': showProgress = true; break;
                case 'q': quiet = true; break;
                case 's': strict = true; break;
                case 'U': forceShare = true; break;
                default: return Usage.Print();
            }
        }
        if (operands.Count != 2)
            throw new UsageException("Expecting two image file names");
        var progress = new Progress(showProgress && !quiet, 2.0f);
        try
        {
            CacheMode cacheMode;
            try
            {
                cacheMode = CacheMode.Parse(cache);
            }
            catch (ImgException)
            {
                Terminal.Report($"Invalid source cache option: {cache}");
                return 2;
            }
            var image1 = await OpenAsync(operands[0], format1, cacheMode, forceShare, cancellationToken).ConfigureAwait(false);
            if (image1 is null)
                return 2;
            await using (image1.ConfigureAwait(false))
            {
                var image2 = await OpenAsync(operands[1], format2, cacheMode, forceShare, cancellationToken).ConfigureAwait(false);
                if (image2 is null)
                    return 2;
                await using (image2.ConfigureAwait(false))
                {
                    var comparer = new ImageComparer(image1, image2, strict, quiet, progress);
                    return await comparer.RunAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            progress.End();
        }
    }

    private static async Task<ImageHandle?> OpenAsync(string path, string? format, CacheMode cache, bool forceShare, CancellationToken cancellationToken)
    {
        try
        {
            return await ImageHandle.OpenAsync(path, new ImageOpenOptions { Format = format, Cache = cache, ForceShare = forceShare }, cancellationToken).ConfigureAwait(false);
        }
        catch (ImgException e)
        {
            Terminal.Report(e.Message);
            return null;
        }
    }
}
