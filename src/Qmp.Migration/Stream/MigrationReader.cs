using System.Buffers.Binary;
using System.Text;
using Qmp.Memory;

namespace Qmp.Migration.Stream;

/// <summary>
/// Reads a migration stream (see <see cref="MigrationFormat"/>). Every malformed or truncated input is a
/// <see cref="MigrationLoadException"/> that says what was being read. Used by one thread.
/// </summary>
internal sealed class MigrationReader(System.IO.Stream stream)
{
    // Small enough that a data run (up to 1 MiB) is mostly read straight into guest RAM, past the buffer.
    private readonly BufferedStream _stream = new(stream, 64 << 10);
    private readonly byte[] _page = new byte[MigrationFormat.PageSize];
    private readonly byte[] _scratch = new byte[16];

    /// <summary>Bytes consumed so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>Checks the magic and version.</summary>
    public void ReadHeader()
    {
        var magic = new byte[8];
        ReadExactly(magic, "the stream header");
        if (!magic.AsSpan().SequenceEqual(MigrationFormat.Magic))
            throw new MigrationLoadException("not a qmpd migration stream (bad magic)");
        var version = U32("the stream header");
        if (version != MigrationFormat.Version)
            throw new MigrationLoadException($"migration stream version {version} is not supported (this build reads {MigrationFormat.Version})");
    }

    /// <summary>The next record's tag.</summary>
    public RecordTag ReadTag()
    {
        ReadExactly(_scratch.AsSpan(0, 1), "a record tag");
        var tag = (RecordTag)_scratch[0];
        if (tag is not (RecordTag.Config or RecordTag.Ram or RecordTag.Section or RecordTag.End))
            throw new MigrationLoadException($"unknown migration stream record 0x{_scratch[0]:x2} at byte {BytesRead - 1}");
        return tag;
    }

    /// <summary>Reads a configuration record's body (after its tag).</summary>
    public MigrationConfig ReadConfig()
    {
        var length = U32("the configuration record");
        if (length > 1 << 20)
            throw new MigrationLoadException($"configuration record of {length} bytes is too large");
        var body = new byte[length];
        ReadExactly(body, "the configuration record");
        try
        {
            using var r = new BinaryReader(new MemoryStream(body), Encoding.UTF8);
            var type = ReadString(r);
            var count = r.ReadUInt16();
            var blocks = new List<RamBlockInfo>(count);
            for (var i = 0; i < count; i++)
                blocks.Add(new RamBlockInfo(ReadString(r), r.ReadInt64()));
            Guid? uuid = r.ReadBoolean() ? new Guid(r.ReadBytes(16), bigEndian: true) : null;
            return new MigrationConfig(type, blocks, uuid);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException)
        {
            throw new MigrationLoadException("configuration record is truncated", e);
        }
    }

    /// <summary>
    /// Reads a RAM record's body into <paramref name="blocks"/>: a data run straight into guest RAM, a zero run by
    /// clearing what may hold data. For a block with a <paramref name="written"/> bitmap (discarded before loading,
    /// so all zero) only pages this stream wrote need clearing; without one each page is checked first.
    /// </summary>
    public void ReadRam(IReadOnlyList<RamBlock> blocks, IReadOnlyList<long[]?> written, RamCounters counters)
    {
        var (kind, index, first, pages) = ReadRamHeader(blocks.Count, i => blocks[i].Size, i => blocks[i].Name);
        var block = blocks[index];
        var bitmap = written[index];
        if (kind == MigrationFormat.RamData)
        {
            ReadExactly(block.GetSpan(first * MigrationFormat.PageSize, (int)pages * MigrationFormat.PageSize), $"a page of RAM block '{block.Name}'");
            if (bitmap is not null)
                SetBits(bitmap, first, pages);
            counters.Normal += pages;
            return;
        }
        for (var page = first; page < first + pages; page++)
        {
            // Writing an untouched page would allocate it: clear only what may hold data.
            if (bitmap is not null)
            {
                var word = bitmap[page >> 6];
                if (word == 0)
                {
                    page |= 63;
                    continue;
                }
                if ((word & (1L << (int)(page & 63))) == 0)
                    continue;
            }
            var target = block.GetSpan(page * MigrationFormat.PageSize, MigrationFormat.PageSize);
            if (target.ContainsAnyExcept((byte)0))
                target.Clear();
        }
        counters.Zero += pages;
    }

    /// <summary>Skips a RAM record's body (the analyzer): its block index, zero pages, data pages and offset range.</summary>
    public (int Block, long Zero, long Normal, long First, long Last) SkipRam(IReadOnlyList<RamBlockInfo> blocks)
    {
        var (kind, index, first, pages) = ReadRamHeader(blocks.Count, i => blocks[i].Size, i => blocks[i].Name);
        var offset = first * MigrationFormat.PageSize;
        var last = offset + ((pages - 1) * MigrationFormat.PageSize);
        if (kind == MigrationFormat.RamZero)
            return (index, pages, 0, offset, last);
        for (var i = 0; i < pages; i++)
            ReadExactly(_page, "a RAM page");
        return (index, 0, pages, offset, last);
    }

    // The header after the tag, checked against the configuration: kind, block index, first page, page count.
    private (byte Kind, int Block, long First, long Pages) ReadRamHeader(int blockCount, Func<int, long> size, Func<int, string> name)
    {
        ReadExactly(_scratch.AsSpan(0, MigrationFormat.RamHeaderSize), "a RAM record");
        var kind = _scratch[0];
        var index = BinaryPrimitives.ReadUInt16LittleEndian(_scratch.AsSpan(1));
        var pages = (long)BinaryPrimitives.ReadUInt32LittleEndian(_scratch.AsSpan(3));
        var offset = BinaryPrimitives.ReadUInt64LittleEndian(_scratch.AsSpan(7));
        if (kind is not (MigrationFormat.RamZero or MigrationFormat.RamData))
            throw new MigrationLoadException($"RAM record of unknown kind {kind}");
        if (index >= blockCount)
            throw new MigrationLoadException($"RAM record for block {index}, but the configuration has {blockCount}");
        if (pages == 0 || (kind == MigrationFormat.RamData && pages > MigrationFormat.MaxPagesPerRecord))
            throw new MigrationLoadException($"RAM record of {pages} pages");
        if ((offset & (MigrationFormat.PageSize - 1)) != 0 || offset > (ulong)size(index) || (ulong)size(index) - offset < (ulong)pages * MigrationFormat.PageSize)
            throw new MigrationLoadException($"RAM pages 0x{offset:x}+{pages} are outside block '{name(index)}' of 0x{size(index):x} bytes");
        return (kind, index, (long)(offset / MigrationFormat.PageSize), pages);
    }

    private static void SetBits(long[] bitmap, long first, long count)
    {
        for (var page = first; page < first + count; page++)
            bitmap[page >> 6] |= 1L << (int)(page & 63);
    }

    /// <summary>Reads a device section's body (after its tag).</summary>
    public DeviceSection ReadSection()
    {
        var nameLength = U16("a section header");
        var name = new byte[nameLength];
        ReadExactly(name, "a section name");
        var section = Encoding.UTF8.GetString(name);
        var instance = (int)U32($"section '{section}'");
        var version = (int)U32($"section '{section}'");
        var length = U32($"section '{section}'");
        if (length > 64 << 20)
            throw new MigrationLoadException($"section '{section}' of {length} bytes is too large");
        var payload = new byte[length];
        ReadExactly(payload, $"section '{section}'");
        return new DeviceSection(section, instance, version, payload);
    }

    internal static string ReadString(BinaryReader reader)
    {
        var length = reader.ReadUInt16();
        var bytes = reader.ReadBytes(length);
        if (bytes.Length != length)
            throw new EndOfStreamException();
        return Encoding.UTF8.GetString(bytes);
    }

    private ushort U16(string what)
    {
        ReadExactly(_scratch.AsSpan(0, 2), what);
        return BinaryPrimitives.ReadUInt16LittleEndian(_scratch);
    }

    private uint U32(string what)
    {
        ReadExactly(_scratch.AsSpan(0, 4), what);
        return BinaryPrimitives.ReadUInt32LittleEndian(_scratch);
    }

    private ulong U64(string what)
    {
        ReadExactly(_scratch.AsSpan(0, 8), what);
        return BinaryPrimitives.ReadUInt64LittleEndian(_scratch);
    }

    private void ReadExactly(Span<byte> buffer, string what)
    {
        try
        {
            _stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new MigrationLoadException($"migration stream ended early, in {what}", e);
        }
        BytesRead += buffer.Length;
    }
}
