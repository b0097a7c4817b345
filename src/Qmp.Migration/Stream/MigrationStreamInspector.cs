using System.Globalization;

namespace Qmp.Migration.Stream;

/// <summary>
/// Describes a migration stream record by record without loading it anywhere (tools/migstream, and what a
/// user reads to see why a destination refused a saved file).
/// </summary>
public static class MigrationStreamInspector
{
    /// <summary>One line per record; consecutive RAM records of a block are summed into one line per pass.</summary>
    /// <exception cref="MigrationLoadException">The stream is malformed; the lines before it were already returned.</exception>
    public static IEnumerable<string> Describe(System.IO.Stream stream)
    {
        var reader = new MigrationReader(stream);
        reader.ReadHeader();
        yield return $"header: qmpd migration stream version {MigrationFormat.Version}";
        IReadOnlyList<RamBlockInfo> blocks = [];
        (int Block, long Records, long Zero, long Normal, long First, long Last)? run = null;
        while (true)
        {
            var offset = reader.BytesRead;
            var tag = reader.ReadTag();
            if (tag != RecordTag.Ram && run is { } done)
            {
                yield return RamLine(done, blocks);
                run = null;
            }
            switch (tag)
            {
                case RecordTag.Config:
                    var config = reader.ReadConfig();
                    blocks = config.RamBlocks;
                    yield return $"{offset,12}: config: machine {config.MachineType}, uuid {(config.Uuid?.ToString("D") ?? "(not sent)")}";
                    foreach (var block in config.RamBlocks)
                        yield return $"{"",12}  ram block {block.Name}: {block.Size} bytes ({block.Size / MigrationFormat.PageSize} pages)";
                    break;
                case RecordTag.Ram:
                    var (index, zero, normal, first, last) = reader.SkipRam(blocks);
                    if (run is { } current && current.Block == index && first > current.Last)
                    {
                        run = (index, current.Records + 1, current.Zero + zero, current.Normal + normal, current.First, last);
                    }
                    else
                    {
                        if (run is { } previous)
                            yield return RamLine(previous, blocks);
                        run = (index, 1, zero, normal, first, last);
                    }
                    break;
                case RecordTag.Section:
                    var section = reader.ReadSection();
                    yield return $"{offset,12}: section {section.Name} instance {section.Instance} version {section.Version}: {section.Payload.Length} bytes";
                    break;
                case RecordTag.End:
                    yield return $"{offset,12}: end ({reader.BytesRead} bytes)";
                    yield break;
            }
        }
    }

    private static string RamLine((int Block, long Records, long Zero, long Normal, long First, long Last) run, IReadOnlyList<RamBlockInfo> blocks)
    {
        var name = run.Block < blocks.Count ? blocks[run.Block].Name : run.Block.ToString(CultureInfo.InvariantCulture);
        return $"{"",12}  ram {name} 0x{run.First:x}..0x{run.Last + MigrationFormat.PageSize:x}: {run.Records} records, {run.Normal} pages with data, {run.Zero} zero pages";
    }
}
