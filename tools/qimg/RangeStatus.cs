using Qmp.Block;

namespace Qmp.Img;

/// <summary>
/// What a run of an image holds, with the BDRV_BLOCK_* bits qemu-img works with: <see cref="Data"/>,
/// <see cref="Zero"/>, <see cref="Allocated"/> (this layer, or some layer of the chain, answers for it) and,
/// with <see cref="OffsetValid"/>, where it lies in <see cref="File"/>.
/// </summary>
internal readonly record struct RangeStatus(long Length, bool Data, bool Zero, bool Allocated, bool OffsetValid, long Offset, BlockNode? File, bool Eof)
{
    /// <summary>The bits as one value, for strict comparisons (qemu-img compare -s compares the whole status).</summary>
    public int Bits => (Data ? 1 : 0) | (Zero ? 2 : 0) | (OffsetValid ? 4 : 0) | (Allocated ? 16 : 0);
}
