using Qmp.Memory;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>Checks that DMA targets guest RAM (or ROM for reads), never device registers or holes.</summary>
internal static class GuestRam
{
    public static bool Covers(AddressSpace memory, ulong address, ulong length, bool write)
    {
        if (length == 0)
            return true;
        var end = address + length;
        if (end < address)
            return false;
        while (address < end)
        {
            var range = memory.Find(address);
            if (range is null || !(range.Region.Kind == MemoryRegionKind.Ram || (!write && range.Region.Kind == MemoryRegionKind.Rom)))
                return false;
            address = range.End;
        }
        return true;
    }
}
