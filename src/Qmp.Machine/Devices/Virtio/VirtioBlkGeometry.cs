using System.Buffers.Binary;
using Qmp.Block;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// QEMU's hd_geometry_guess for a disk without cyls/heads/secs: the geometry an MBR's partitions end on
/// when it has at most 16 heads, else the standard 16 heads × 63 sectors with the cylinders the size gives.
/// </summary>
internal static class VirtioBlkGeometry
{
    private const int PartitionTable = 0x1BE;
    private const int PartitionEntrySize = 16;

    /// <summary>The disk size in 512-byte sectors, rounded up as QEMU's total_sectors is.</summary>
    public static ulong Sectors(long length) => length <= 0 ? 0 : (ulong)((length + VirtioBlkProtocol.SectorSize - 1) >> VirtioBlkProtocol.SectorBits);

    public static (uint Cylinders, uint Heads, uint Sectors) Guess(BlockNode root)
    {
        var sectors = Sectors(root.Length);
        // With more than 16 heads the partitions were laid out under a BIOS translation: use the physical guess.
        if (FromPartitions(root, sectors) is { Heads: <= 16 } logical)
            return logical;
        var cylinders = Math.Clamp(sectors / (16 * 63), 2, 16383);
        return ((uint)cylinders, 16, 63);
    }

    // guess_disk_lchs: the first partition that ends on a plausible cylinder boundary.
    private static (uint Cylinders, uint Heads, uint Sectors)? FromPartitions(BlockNode root, ulong sectors)
    {
        var mbr = new byte[VirtioBlkProtocol.SectorSize];
        try
        {
            // Realize is synchronous, as QEMU's blk_pread here is; one sector, read off the machine's thread pool.
            Task.Run(() => root.ReadAsync(0, mbr).AsTask()).GetAwaiter().GetResult();
        }
        catch (IOException)
        {
            return null;
        }
        if (mbr[510] != 0x55 || mbr[511] != 0xAA)
            return null;
        for (var i = 0; i < 4; i++)
        {
            var entry = mbr.AsSpan(PartitionTable + (i * PartitionEntrySize), PartitionEntrySize);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]);
            var endHead = entry[5];
            if (length == 0 || endHead == 0)
                continue;
            var heads = (uint)endHead + 1;
            var perTrack = (uint)(entry[6] & 63);
            if (perTrack == 0)
                continue;
            var cylinders = sectors / (heads * perTrack);
            if (cylinders is < 1 or > 16383)
                continue;
            return ((uint)cylinders, heads, perTrack);
        }
        return null;
    }
}
