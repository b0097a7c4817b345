namespace Qmp.Machine.Devices.Virtio;

// Migration: QEMU's virtio_blk_save_device/load_device plus the write cache mode.
internal sealed partial class VirtioBlk
{
    private const int MaxBuffersPerElement = SplitVirtqueue.MaxQueueSize;

    /// <summary>
    /// Writes the cache mode and the requests that must run again on the target, each as its queue, head
    /// and buffers: those a stop policy kept (all QEMU saves, since it drains first), then any still issued
    /// or waiting to be. After a drain those can only be requests that met the section's gate on their way
    /// in; running them again on the target is safe, as the guest has not seen them complete.
    /// </summary>
    protected internal override void SaveBackendState(BinaryWriter writer)
    {
        writer.Write(WriteCache);
        var requests = _kept.Concat(_active).Concat(_pending).ToList();
        writer.Write(requests.Count);
        foreach (var request in requests)
        {
            var element = request.Element;
            writer.Write((ushort)request.Queue.Index);
            writer.Write(element.Head);
            WriteBuffers(writer, element.Readable);
            WriteBuffers(writer, element.Writable);
        }
    }

    /// <summary>Reads what <see cref="SaveBackendState"/> wrote; the requests run again when the machine resumes.</summary>
    /// <exception cref="InvalidDataException">A request names a queue or buffers this device cannot have.</exception>
    protected internal override void LoadBackendState(BinaryReader reader)
    {
        var writeCache = reader.ReadBoolean();
        var count = reader.ReadInt32();
        if (count < 0 || count > Queues.Sum(q => q.Size))
            throw new InvalidDataException($"virtio-blk: bad number of requests {count}");
        var restored = new List<VirtioBlkRequest>(count);
        for (var i = 0; i < count; i++)
        {
            var index = reader.ReadUInt16();
            var head = reader.ReadUInt16();
            var readable = ReadBuffers(reader, write: false);
            var writable = ReadBuffers(reader, write: true);
            if (index >= Queues.Count)
                throw new InvalidDataException($"virtio-blk: request on queue {index}, the device has {Queues.Count}");
            var queue = Queues[index];
            if (head >= queue.Size)
                throw new InvalidDataException($"virtio-blk: request head {head} outside queue {index} of {queue.Size}");
            var element = VirtioBlkElementRestore.Restore(queue, head, readable, writable, Memory);
            // Parsed again on resume: the operation recorded here is only a placeholder.
            restored.Add(new VirtioBlkRequest(queue, element, VirtioBlkOperation.Flush));
        }
        _generation++;
        _pending.Clear();
        _active.Clear();
        _kept.Clear();
        _kept.AddRange(restored);
        _writeCache = writeCache;
        _writeCacheAtDriverOk = null;
    }

    private static void WriteBuffers(BinaryWriter writer, IReadOnlyList<VirtqueueBuffer> buffers)
    {
        writer.Write(buffers.Count);
        foreach (var buffer in buffers)
        {
            writer.Write(buffer.Address);
            writer.Write(buffer.Length);
        }
    }

    private VirtqueueBuffer[] ReadBuffers(BinaryReader reader, bool write)
    {
        var count = reader.ReadInt32();
        if (count is < 0 or > MaxBuffersPerElement)
            throw new InvalidDataException($"virtio-blk: bad buffer count {count}");
        var buffers = new VirtqueueBuffer[count];
        for (var i = 0; i < count; i++)
        {
            var buffer = new VirtqueueBuffer(reader.ReadUInt64(), reader.ReadUInt32());
            // The same check as popping: the device only ever touches guest RAM.
            if (buffer.Length == 0 || !GuestRam.Covers(Memory, buffer.Address, buffer.Length, write))
                throw new InvalidDataException($"virtio-blk: request buffer {buffer.Address:#x}+{buffer.Length} is not in guest RAM");
            buffers[i] = buffer;
        }
        return buffers;
    }
}
