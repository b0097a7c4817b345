using System.Buffers.Binary;

namespace Qmp.Block.Qcow2;

/// <summary>
/// Refcount block entries of 2^order bits: sub-byte widths are packed from the least significant bit,
/// 8 bits and more are big-endian.
/// </summary>
internal static class Qcow2RefcountCodec
{
    public static ulong MaxValue(int order) => order == 6 ? ulong.MaxValue : (1UL << (1 << order)) - 1;

    public static ulong Get(ReadOnlySpan<byte> block, int index, int order) => order switch
    {
        < 3 => (ulong)(block[index >> (3 - order)] >> ((index & ((8 >> order) - 1)) << order)) & MaxValue(order),
        3 => block[index],
        4 => BinaryPrimitives.ReadUInt16BigEndian(block[(index * 2)..]),
        5 => BinaryPrimitives.ReadUInt32BigEndian(block[(index * 4)..]),
        _ => BinaryPrimitives.ReadUInt64BigEndian(block[(index * 8)..]),
    };

    public static void Set(Span<byte> block, int index, int order, ulong value)
    {
        switch (order)
        {
            case < 3:
                var shift = (index & ((8 >> order) - 1)) << order;
                var mask = (int)MaxValue(order) << shift;
                ref var b = ref block[index >> (3 - order)];
                b = (byte)((b & ~mask) | ((int)value << shift & mask));
                break;
            case 3:
                block[index] = (byte)value;
                break;
            case 4:
                BinaryPrimitives.WriteUInt16BigEndian(block[(index * 2)..], (ushort)value);
                break;
            case 5:
                BinaryPrimitives.WriteUInt32BigEndian(block[(index * 4)..], (uint)value);
                break;
            default:
                BinaryPrimitives.WriteUInt64BigEndian(block[(index * 8)..], value);
                break;
        }
    }

    /// <summary>The bytes of a block that hold entries [first, first + count).</summary>
    public static (int Start, int Length) ByteRange(int first, int count, int order)
    {
        var bits = 1 << order;
        var start = (int)((long)first * bits / 8);
        var end = (int)(((long)(first + count) * bits + 7) / 8);
        return (start, end - start);
    }
}
