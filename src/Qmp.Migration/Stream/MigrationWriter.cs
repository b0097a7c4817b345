using System.Buffers.Binary;
using System.Text;
using Qmp.Memory;

namespace Qmp.Migration.Stream;

/// <summary>
/// Writes a migration stream (see <see cref="MigrationFormat"/>) through one buffer, so guest pages are
/// copied once from guest RAM into it and leave in large writes. Used by one thread.
/// </summary>
internal sealed class MigrationWriter(System.IO.Stream stream, RateLimiter? limiter = null)
{
    private const int BufferSize = 1 << 20;
    // Runs this large skip the buffer: one copy (into the kernel) instead of two.
    private const int DirectWriteSize = 64 << 10;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _used;
    private long _flushed;

    /// <summary>Bytes written so far, buffered ones included.</summary>
    public long BytesWritten => _flushed + _used;

    /// <summary>Paces flushed bytes; null writes at full speed.</summary>
    public RateLimiter? Limiter { get; set; } = limiter;

    /// <summary>Writes the magic and the version.</summary>
    public void WriteHeader()
    {
        Reserve(12);
        MigrationFormat.Magic.CopyTo(_buffer.AsSpan(_used));
        _used += 8;
        PutU32(MigrationFormat.Version);
    }

    /// <summary>Writes the configuration record.</summary>
    public void WriteConfig(MigrationConfig config)
    {
        var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            WriteString(w, config.MachineType);
            w.Write(checked((ushort)config.RamBlocks.Count));
            foreach (var block in config.RamBlocks)
            {
                WriteString(w, block.Name);
                w.Write(block.Size);
            }
            w.Write(config.Uuid is not null);
            if (config.Uuid is { } uuid)
                w.Write(uuid.ToByteArray(bigEndian: true));
        }
        Reserve(5);
        _buffer[_used++] = (byte)RecordTag.Config;
        PutU32((uint)body.Length);
        PutBytes(body.GetBuffer().AsSpan(0, (int)body.Length));
    }

    /// <summary>Writes a run of <paramref name="pages"/> zero pages from <paramref name="firstPage"/> (no data travels).</summary>
    public void WriteZeroRun(int blockIndex, long firstPage, long pages, RamCounters counters)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        while (pages > 0)
        {
            var count = (uint)Math.Min(pages, uint.MaxValue);
            PutRamHeader(MigrationFormat.RamZero, blockIndex, count, firstPage);
            counters.Zero += count;
            firstPage += count;
            pages -= count;
        }
    }

    /// <summary>
    /// Writes a run of <paramref name="pages"/> pages of <paramref name="ram"/> from <paramref name="firstPage"/> with
    /// their data (at most <see cref="MigrationFormat.MaxPagesPerRecord"/>). A large run goes from guest RAM straight
    /// to the channel, one write without a copy; a small one joins the buffer.
    /// </summary>
    public void WriteDataRun(int blockIndex, RamBlock ram, long firstPage, int pages, RamCounters counters)
    {
        if (pages is <= 0 or > MigrationFormat.MaxPagesPerRecord)
            throw new ArgumentOutOfRangeException(nameof(pages), pages, "a RAM record with data carries 1..256 pages");
        var data = ram.GetSpan(firstPage * MigrationFormat.PageSize, pages * MigrationFormat.PageSize);
        PutRamHeader(MigrationFormat.RamData, blockIndex, (uint)pages, firstPage);
        if (data.Length >= DirectWriteSize)
        {
            Flush();
            stream.Write(data);
            _flushed += data.Length;
            Limiter?.Account(data.Length);
        }
        else
        {
            Reserve(data.Length);
            data.CopyTo(_buffer.AsSpan(_used));
            _used += data.Length;
        }
        counters.Normal += pages;
    }

    /// <summary>Writes one device section.</summary>
    public void WriteSection(DeviceSection section)
    {
        var name = Encoding.UTF8.GetBytes(section.Name);
        Reserve(1 + 2 + name.Length + 12);
        _buffer[_used++] = (byte)RecordTag.Section;
        PutU16(checked((ushort)name.Length));
        PutBytes(name);
        PutU32((uint)section.Instance);
        PutU32((uint)section.Version);
        PutU32((uint)section.Payload.Length);
        PutBytes(section.Payload);
    }

    /// <summary>Writes the end marker.</summary>
    public void WriteEnd()
    {
        Reserve(1);
        _buffer[_used++] = (byte)RecordTag.End;
    }

    /// <summary>Writes out what is buffered, paced by the limiter.</summary>
    public void Flush()
    {
        if (_used == 0)
            return;
        stream.Write(_buffer, 0, _used);
        _flushed += _used;
        var written = _used;
        _used = 0;
        Limiter?.Account(written);
    }

    internal static void WriteString(BinaryWriter writer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        writer.Write(checked((ushort)bytes.Length));
        writer.Write(bytes);
    }

    private void PutRamHeader(byte kind, int blockIndex, uint pages, long firstPage)
    {
        Reserve(1 + MigrationFormat.RamHeaderSize);
        _buffer[_used++] = (byte)RecordTag.Ram;
        _buffer[_used++] = kind;
        PutU16(checked((ushort)blockIndex));
        PutU32(pages);
        PutU64((ulong)firstPage * MigrationFormat.PageSize);
    }

    private void Reserve(int bytes)
    {
        if (_used + bytes > _buffer.Length)
            Flush();
    }

    // Copies a span that may be larger than the buffer.
    private void PutBytes(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_used == _buffer.Length)
                Flush();
            var chunk = Math.Min(bytes.Length, _buffer.Length - _used);
            bytes[..chunk].CopyTo(_buffer.AsSpan(_used));
            _used += chunk;
            bytes = bytes[chunk..];
        }
    }

    private void PutU16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_used), value);
        _used += 2;
    }

    private void PutU32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_used), value);
        _used += 4;
    }

    private void PutU64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_used), value);
        _used += 8;
    }
}
