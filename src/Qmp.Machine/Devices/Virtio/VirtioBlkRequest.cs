using Qmp.Block;
using Qmp.Block.Backends;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// A parsed virtio-blk request that goes to the block backend (QEMU's VirtIOBlockReq): the element it came
/// from, what to do where, and while it runs, the pooled buffer that holds its data. The machine thread
/// fills the buffer (writes) or empties it (reads); the I/O thread only hands it to the backend.
/// </summary>
internal sealed class VirtioBlkRequest(SplitVirtqueue queue, VirtqueueElement element, VirtioBlkOperation operation)
{
    public SplitVirtqueue Queue { get; } = queue;

    public VirtqueueElement Element { get; } = element;

    public VirtioBlkOperation Operation { get; } = operation;

    /// <summary>Byte offset in the disk.</summary>
    public long Offset { get; init; }

    /// <summary>Bytes to transfer, or the range to discard or zero.</summary>
    public long Length { get; init; }

    /// <summary>MayUnmap for write-zeroes with the unmap flag; Fua is added at submission in writethrough mode.</summary>
    public BlockWriteFlags Flags { get; set; }

    /// <summary>Whether an error counts as a read for rerror (QEMU: only IN requests do).</summary>
    public bool IsRead => Operation == VirtioBlkOperation.Read;

    /// <summary>Whether the request moves data through <see cref="Buffer"/>.</summary>
    public bool HasData => Operation is VirtioBlkOperation.Read or VirtioBlkOperation.Write;

    /// <summary>The data, rented from the shared pool for the time the request runs.</summary>
    public byte[]? Buffer { get; set; }

    /// <summary>The backend it was issued to.</summary>
    public BlockBackend? Backend { get; set; }

    /// <summary>Where the completion goes: the machine thread.</summary>
    public Action<Action>? Post { get; set; }

    /// <summary>The device generation at submission; a reset in between makes the completion a no-op.</summary>
    public int Generation { get; set; }

    /// <summary>Its entry in the device's list of issued requests, until it completes.</summary>
    public LinkedListNode<VirtioBlkRequest>? Active { get; set; }
}
