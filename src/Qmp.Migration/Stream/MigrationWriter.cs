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

    /// <summary>
    /// Writes one RAM record with <paramref name="pages"/> of <paramref name="ram"/> (at most
    /// <see cref="MigrationFormat.MaxPagesPerRecord"/>): zero pages as a flagged header, others with their data.
    /// </summary>
    public void WriteRam(int blockIndex, RamBlock ram, ReadOnlySpan<long> pages, RamCounters counters)
    {
        if (pages.Length is 0 or > MigrationFormat.MaxPagesPerRecord)
            throw new ArgumentOutOfRangeException(nameof(pages), pages.Length, "a RAM record carries 1..256 pages");
        Reserve(5);
        _buffer[_used++] = (byte)RecordTag.Ram;
        PutU16((ushort)blockIndex);
        PutU16((ushort)pages.Length);
        foreach (var page in pages)
        {
            var offset = page * MigrationFormat.PageSize;
            var data = ram.GetSpan(offset, MigrationFormat.PageSize);
            Reserve(8 + MigrationFormat.PageSize);
            if (!data.ContainsAnyExcept((byte)0))
            {
                PutU64((ulong)offset | MigrationFormat.ZeroPage);
                counters.Zero++;
                continue;
            }
            PutU64((ulong)offset);
            data.CopyTo(_buffer.AsSpan(_used));
            _used += MigrationFormat.PageSize;
            counters.Normal++;
        }
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
