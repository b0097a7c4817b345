using Qmp.Memory;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// Rebuilds a popped element from a migration stream (QEMU's qemu_get_virtqueue_element), stamped with its
/// queue's current epoch so it can be pushed once re-run.
/// </summary>
internal static class VirtioBlkElementRestore
{
    public static VirtqueueElement Restore(SplitVirtqueue queue, ushort head, VirtqueueBuffer[] readable, VirtqueueBuffer[] writable, AddressSpace memory) =>
        new(queue, queue.Epoch, head, readable, writable, memory);
}
