using System.Globalization;
using Qmp.Block;

namespace Qmp.Img;

/// <summary>
/// <c>map [-f fmt] [--output=human|json] [--start-offset=o] [--max-length=n] [-U] filename</c>: walks the image's
/// block status layer by layer down the backing chain (depth = the layer that answers) and prints merged runs,
/// as JSON objects or as the human table of data extents.
/// </summary>
internal static class MapCommand
{
    private const int OptionOutput = 256;
    private const int OptionStartOffset = 257;
    private const int OptionMaxLength = 258;
    private const long ProbeLimit = 1L << 30;

    private static readonly LongOption[] _longOptions =
    [
        new("help", false, 'h'),
        new("format", true, 'f'),
        new("output", true, OptionOutput),
        new("force-share", false, 'U'),
        new("start-offset", true, OptionStartOffset),
        new("max-length", true, OptionMaxLength),
    ];

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (options, operands) = GetOpt.Parse(args, ":f:hU", _longOptions);
        string? format = null;
        string? output = null;
        var forceShare = false;
        long start = 0;
        var maxLength = long.MaxValue;
        foreach (var option in options)
        {
            switch (option.Id)
            {
                case 'f': format = option.Argument; break;
                case 'U': forceShare = true; break;
                case OptionOutput: output = option.Argument; break;
                case OptionStartOffset: start = ConvertNumber("start offset", option.Argument); break;
                case OptionMaxLength: maxLength = ConvertNumber("max length", option.Argument); break;
                default: return Usage.Print();
            }
        }
        if (operands.Count != 1)
            throw new UsageException("Expecting one image file name");
        var outputFormat = OutputFormats.Parse(output);
        var image = await ImageHandle.OpenAsync(operands[0], new ImageOpenOptions { Format = format, ForceShare = forceShare }, cancellationToken).ConfigureAwait(false);
        await using (image.ConfigureAwait(false))
        {
            var writer = Terminal.Out;
            writer.Write(outputFormat == OutputFormat.Human ? $"{"Offset",-16}{"Length",-16}{"Mapped to",-16}File\n" : "[");
            var length = Math.Min(start > long.MaxValue - maxLength ? long.MaxValue : start + maxLength, BlockStatusQuery.VirtualLength(image.Root));
            var current = new MapEntry(start, 0, false, false, false, 0, null, null);
            while (current.Start + current.Length < length)
            {
                var offset = current.Start + current.Length;
                var next = await GetEntryAsync(image.Root, offset, Math.Min(ProbeLimit, length - offset), cancellationToken).ConfigureAwait(false);
                if (current.CanMerge(next))
                {
                    current = current with { Length = current.Length + next.Length };
                    continue;
                }
                if (current.Length > 0)
                    next = Dump(writer, outputFormat, current, next);
                current = next;
            }
            Dump(writer, outputFormat, current, null);
            if (outputFormat == OutputFormat.Json)
                writer.Write("]\n");
            return 0;
        }
    }

    /// <summary>cvtnum: a size in bytes below 2^63.</summary>
    private static long ConvertNumber(string name, string text)
    {
        switch (SizeParser.TryParse(text, out var value))
        {
            case SizeParser.Result.Invalid:
                Terminal.Report($"Invalid {name} specified. You may use k, M, G, T, P or E suffixes for");
                throw new ImgException("kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
            case SizeParser.Result.Ok when value <= long.MaxValue:
                return (long)value;
            default:
                throw new ImgException($"Invalid {name} specified. Must be between 0 and {long.MaxValue}.");
        }
    }

    // get_block_status: the first layer from the top whose status says data or zero; its depth and file.
    private static async Task<MapEntry> GetEntryAsync(BlockNode top, long offset, long bytes, CancellationToken cancellationToken)
    {
        var depth = 0;
        var node = top;
        RangeStatus status;
        while (true)
        {
            status = await BlockStatusQuery.LayerAsync(node, offset, bytes, cancellationToken).ConfigureAwait(false);
            if (status.Length == 0)
            {
                // Past the end of a shorter backing file: zeroes.
                status = new RangeStatus(bytes, false, true, false, false, 0, null, true);
                break;
            }
            bytes = status.Length;
            if (status.Data || status.Zero)
                break;
            if (node.Backing is not { } backing)
            {
                status = default;
                break;
            }
            node = backing;
            depth++;
        }
        var hasOffset = status.OffsetValid;
        return new MapEntry(offset, bytes, status.Data, status.Zero, status.Allocated, depth,
            hasOffset ? status.Offset : null, hasOffset ? status.File?.Filename : null);
    }

    // dump_map_entry; returns next, which the human format coarsens (it shows only data extents).
    private static MapEntry Dump(TextWriter writer, OutputFormat format, MapEntry entry, MapEntry? next)
    {
        if (format == OutputFormat.Human)
        {
            if (entry.Data && entry.Offset is null)
                throw new ImgException("File contains external, encrypted or compressed clusters.");
            if (entry.Data && !entry.Zero)
                writer.Write($"{Hex(entry.Start),-16}{Hex(entry.Length),-16}{Hex(entry.Offset ?? 0),-16}{entry.Filename}\n");
            return next is not null && (!next.Data || next.Zero) ? next with { Data = false, Zero = true } : next!;
        }
        writer.Write(string.Create(CultureInfo.InvariantCulture,
            $"{{ \"start\": {entry.Start}, \"length\": {entry.Length}, \"depth\": {entry.Depth}, \"present\": {Bool(entry.Present)}, \"zero\": {Bool(entry.Zero)}, \"data\": {Bool(entry.Data)}"));
        if (entry.Offset is { } offset)
            writer.Write(string.Create(CultureInfo.InvariantCulture, $", \"offset\": {offset}"));
        writer.Write('}');
        if (next is not null)
            writer.Write(",\n");
        return next!;
    }

    // printf("%#x"): 0x-prefixed, except for zero.
    private static string Hex(long value) => value == 0 ? "0" : "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";
}
