using Qmp.Memory;
using Qmp.Migration.Stream;

namespace Qmp.Migration.Tests;

public sealed class RamRunTests
{
    private const int Page = MigrationFormat.PageSize;

    [Fact]
    public void Untouched_ram_leaves_as_zero_runs_and_pages_with_data_as_data_runs()
    {
        using var source = RamBlock.CreateAnonymous("pc.ram", 4096L * Page);
        source.Write(5L * Page, [1]);
        source.Write(1000L * Page + 4095, [2]);
        // Resident but zero: still a zero page.
        source.GetSpan(2000L * Page, Page).Clear();

        var (stream, counters) = Send(source);

        Assert.Equal(4094, counters.Zero);
        Assert.Equal(2, counters.Normal);
        var lines = Records(stream, source);
        Assert.Equal(5, lines.Count);
        Assert.Equal((MigrationFormat.RamZero, 0L, 5L), lines[0]);
        Assert.Equal((MigrationFormat.RamData, 5L, 1L), lines[1]);
        Assert.Equal((MigrationFormat.RamZero, 6L, 994L), lines[2]);
        Assert.Equal((MigrationFormat.RamData, 1000L, 1L), lines[3]);
        Assert.Equal((MigrationFormat.RamZero, 1001L, 3095L), lines[4]);
    }

    [Fact]
    public void Long_runs_of_data_are_split_into_records_of_at_most_256_pages()
    {
        using var source = RamBlock.CreateAnonymous("pc.ram", 1024L * Page);
        for (var page = 0L; page < 600; page++)
            source.Write(page * Page, [(byte)(page | 1)]);

        var (stream, _) = Send(source);

        var data = Records(stream, source).Where(r => r.Kind == MigrationFormat.RamData).ToList();
        Assert.Equal([(MigrationFormat.RamData, 0L, 256L), (MigrationFormat.RamData, 256L, 256L), (MigrationFormat.RamData, 512L, 88L)], data);
    }

    [Fact]
    public void Loaded_ram_equals_the_source_and_a_later_zero_run_clears_pages_loaded_before()
    {
        using var source = RamBlock.CreateAnonymous("pc.ram", 2048L * Page);
        var random = new Random(7);
        for (var i = 0; i < 300; i++)
        {
            var bytes = new byte[random.Next(1, 9000)];
            random.NextBytes(bytes);
            source.Write(random.NextInt64(0, 2048L * Page - bytes.Length), bytes);
        }
        source.Write(37L * Page + 10, [9]);
        using var target = RamBlock.CreateAnonymous("pc.ram", 2048L * Page);
        Assert.True(target.Discard());
        long[] written = new long[2048 / 64];
        var counters = new RamCounters();

        Load(Send(source).Stream, target, written, counters);
        Assert.True(source.GetSpan(0, (int)source.Size).SequenceEqual(target.GetSpan(0, (int)target.Size)));

        // The guest zeroes a page that was sent with data: the next pass's zero run must clear it on the target.
        source.GetSpan(37L * Page, Page).Clear();
        var stream = new MemoryStream();
        var writer = new MigrationWriter(stream);
        writer.WriteZeroRun(0, 37, 1, new RamCounters());
        writer.Flush();
        Load(stream, target, written, counters);
        Assert.True(source.GetSpan(0, (int)source.Size).SequenceEqual(target.GetSpan(0, (int)target.Size)));
    }

    [Theory]
    [InlineData(MigrationFormat.RamZero, 1, 0L, 1u, "RAM record for block 1, but the configuration has 1")]
    [InlineData(MigrationFormat.RamZero, 0, 4095L * Page, 2u, "RAM pages 0xfff000+2 are outside block 'pc.ram' of 0x1000000 bytes")]
    [InlineData(MigrationFormat.RamData, 0, 0L, 257u, "RAM record of 257 pages")]
    [InlineData(MigrationFormat.RamZero, 0, 0L, 0u, "RAM record of 0 pages")]
    [InlineData((byte)7, 0, 0L, 1u, "RAM record of unknown kind 7")]
    [InlineData(MigrationFormat.RamZero, 0, 12L, 1u, "RAM pages 0xc+1 are outside block 'pc.ram' of 0x1000000 bytes")]
    public void A_bad_ram_record_is_refused_with_what_is_wrong(byte kind, int block, long offset, uint pages, string expected)
    {
        using var target = RamBlock.CreateAnonymous("pc.ram", 4096L * Page);
        var record = new byte[MigrationFormat.RamHeaderSize];
        record[0] = kind;
        BitConverter.TryWriteBytes(record.AsSpan(1), (ushort)block);
        BitConverter.TryWriteBytes(record.AsSpan(3), pages);
        BitConverter.TryWriteBytes(record.AsSpan(7), offset);
        var reader = new MigrationReader(new MemoryStream(record));

        var e = Assert.Throws<MigrationLoadException>(() => reader.ReadRam([target], [null], new RamCounters()));

        Assert.Equal(expected, e.Message);
    }

    // One first pass over the whole block, as the migration's first pass sends it.
    private static (MemoryStream Stream, RamCounters Counters) Send(RamBlock block)
    {
        var stream = new MemoryStream();
        var writer = new MigrationWriter(stream);
        var counters = new RamCounters();
        using var sender = new RamSender([block]);
        sender.StartTracking();
        sender.Sync();
        sender.SendPending(writer, counters, CancellationToken.None);
        sender.StopTracking();
        writer.Flush();
        Assert.Equal(0, sender.PendingPages);
        stream.Position = 0;
        return (stream, counters);
    }

    private static List<(byte Kind, long First, long Pages)> Records(MemoryStream stream, RamBlock block)
    {
        var bytes = stream.ToArray();
        var records = new List<(byte, long, long)>();
        var reader = new MigrationReader(new MemoryStream(bytes));
        var infos = new[] { new RamBlockInfo(block.Name, block.Size) };
        for (var consumed = 0L; consumed < bytes.Length; consumed = reader.BytesRead)
        {
            Assert.Equal(RecordTag.Ram, reader.ReadTag());
            var (_, zero, normal, first, _) = reader.SkipRam(infos);
            records.Add((zero > 0 ? MigrationFormat.RamZero : MigrationFormat.RamData, first / Page, zero + normal));
        }
        return records;
    }

    private static void Load(MemoryStream stream, RamBlock target, long[] written, RamCounters counters)
    {
        stream.Position = 0;
        var reader = new MigrationReader(stream);
        while (reader.BytesRead < stream.Length)
        {
            Assert.Equal(RecordTag.Ram, reader.ReadTag());
            reader.ReadRam([target], [written], counters);
        }
    }
}
