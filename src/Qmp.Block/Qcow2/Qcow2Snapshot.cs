using System.Buffers.Binary;
using System.Text;

namespace Qmp.Block.Qcow2;

/// <summary>One entry of the snapshot table: where its L1 table is and what QEMU shows about it.</summary>
internal sealed record Qcow2Snapshot(
    long L1TableOffset,
    int L1Size,
    string Id,
    string Name,
    uint DateSeconds,
    uint DateNanoseconds,
    ulong VmClockNanoseconds,
    ulong VmStateSize,
    long? Icount)
{
    /// <summary>The fixed part of an entry, before extra data, id and name.</summary>
    public const int FixedLength = 40;

    /// <summary>Reads the table at <paramref name="offset"/>; returns the entries and the table's byte length.</summary>
    public static async ValueTask<(List<Qcow2Snapshot> Snapshots, long Length)> ReadTableAsync(BlockNode file, long offset, int count, CancellationToken cancellationToken)
    {
        var list = new List<Qcow2Snapshot>(count);
        var position = offset;
        var fixedPart = new byte[FixedLength];
        for (var i = 0; i < count; i++)
        {
            await file.ReadAsync(position, fixedPart, cancellationToken).ConfigureAwait(false);
            var idSize = BinaryPrimitives.ReadUInt16BigEndian(fixedPart.AsSpan(12));
            var nameSize = BinaryPrimitives.ReadUInt16BigEndian(fixedPart.AsSpan(14));
            var extraSize = BinaryPrimitives.ReadUInt32BigEndian(fixedPart.AsSpan(36));
            if (extraSize > 1024)
                throw new BlockException(BlockError.Invalid, "Too much extra metadata in snapshot table entry");
            var rest = new byte[extraSize + idSize + nameSize];
            await file.ReadAsync(position + FixedLength, rest, cancellationToken).ConfigureAwait(false);
            list.Add(Decode(fixedPart, rest, (int)extraSize, idSize, nameSize));
            var length = FixedLength + rest.Length;
            position += (length + 7) & ~7;
        }
        return (list, position - offset);
    }

    private static Qcow2Snapshot Decode(byte[] f, byte[] rest, int extraSize, int idSize, int nameSize)
    {
        var span = f.AsSpan();
        ulong vmState = BinaryPrimitives.ReadUInt32BigEndian(span[32..]);
        long? icount = null;
        var extra = rest.AsSpan(0, extraSize);
        if (extra.Length >= 8)
            vmState = BinaryPrimitives.ReadUInt64BigEndian(extra);
        if (extra.Length >= 24)
        {
            var value = BinaryPrimitives.ReadInt64BigEndian(extra[16..]);
            icount = value == -1 ? null : value;
        }
        return new Qcow2Snapshot(
            (long)BinaryPrimitives.ReadUInt64BigEndian(span),
            (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(span[8..]), int.MaxValue),
            Encoding.UTF8.GetString(rest, extraSize, idSize),
            Encoding.UTF8.GetString(rest, extraSize + idSize, nameSize),
            BinaryPrimitives.ReadUInt32BigEndian(span[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(span[20..]),
            BinaryPrimitives.ReadUInt64BigEndian(span[24..]),
            vmState,
            icount);
    }

    /// <summary>The public view QEMU's SnapshotInfo gives.</summary>
    public BlockSnapshotInfo ToInfo() =>
        new(Id, Name, (long)VmStateSize, DateSeconds, DateNanoseconds, (long)VmClockNanoseconds, Icount);
}
