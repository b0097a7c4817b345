namespace Qmp.Memory;

/// <summary>
/// A device's MMIO or port-I/O callbacks (QEMU's MemoryRegionOps). Offsets are relative to the
/// start of the region; sizes are 1, 2, 4 or 8 bytes within <see cref="IoAccessRules"/>.
/// Called on the thread that made the access (the machine thread for guest accesses).
/// </summary>
public interface IIoHandler
{
    /// <summary>Reads <paramref name="size"/> bytes at <paramref name="offset"/>, little-endian.</summary>
    ulong Read(ulong offset, int size);

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="value"/> at <paramref name="offset"/>.</summary>
    void Write(ulong offset, int size, ulong value);
}
