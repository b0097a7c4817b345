using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qmp.Img;

/// <summary>
/// qemu-img convert's zero detection (is_allocated_sectors / is_allocated_sectors_min): splits a data buffer into
/// runs of 512-byte sectors that must be written and runs of at least <c>min</c> zero sectors that can be left
/// sparse, aligning run ends to the target's zero-write alignment so no cluster is written twice.
/// </summary>
internal static class SparseScanner
{
    public const int SectorSize = 512;

    /// <summary>is_allocated_sectors_min: whether the first run is data, and how many sectors it spans.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool NextRun(ReadOnlySpan<byte> buffer, int sectors, long sectorNumber, int minSectors, int alignment, out int runSectors)
    {
        if (sectors < minSectors)
            minSectors = sectors;
        if (!IsAllocated(buffer, sectors, sectorNumber, alignment, out runSectors))
            return false;
        var used = runSectors;
        var checkedSectors = runSectors;
        var remaining = sectors - runSectors;
        while (remaining > 0)
        {
            var data = IsAllocated(buffer[(checkedSectors * SectorSize)..], remaining, sectorNumber + checkedSectors, alignment, out var run);
            remaining -= run;
            checkedSectors += run;
            if (data)
                used = checkedSectors;
            else if (run >= minSectors)
                break;
        }
        runSectors = used;
        return true;
    }

    // is_allocated_sectors: the length of the run of sectors with the first one's state (zero or not), with
    // data runs extended and zero runs cut back to an alignment boundary.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsAllocated(ReadOnlySpan<byte> buffer, int sectors, long sectorNumber, int alignment, out int runSectors)
    {
        if (sectors <= 0)
        {
            runSectors = 0;
            return false;
        }
        var isZero = IsZeroSector(buffer, 0);
        var i = 1;
        while (i < sectors && IsZeroSector(buffer, i) == isZero)
            i++;
        if (i == sectors)
        {
            runSectors = i;
            return !isZero;
        }
        var tail = (int)((sectorNumber + i) & (alignment - 1));
        if (tail != 0)
        {
            if (isZero && i <= tail)
                isZero = false;
            if (!isZero)
                i = Math.Min(i + alignment - tail, sectors);
            else
                i -= tail;
        }
        runSectors = i;
        return !isZero;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsZeroSector(ReadOnlySpan<byte> buffer, int sector)
    {
        var start = sector * SectorSize;
        var sector512 = buffer.Slice(start, Math.Min(SectorSize, buffer.Length - start));
        // Data sectors almost always fail on their first word: only zero-looking ones get the full scan.
        if (sector512.Length >= sizeof(ulong) && MemoryMarshal.Read<ulong>(sector512) != 0)
            return false;
        return !sector512.ContainsAnyExcept((byte)0);
    }
}
