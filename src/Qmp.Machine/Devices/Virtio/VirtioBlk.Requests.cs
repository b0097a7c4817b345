using System.Buffers.Binary;
using System.Text;
using Qmp.Block;
using static Qmp.Machine.Devices.Virtio.VirtioBlkProtocol;

namespace Qmp.Machine.Devices.Virtio;

// Popping and parsing requests (QEMU's virtio_blk_handle_vq and virtio_blk_handle_request). Machine thread only.
internal sealed partial class VirtioBlk
{
    /// <inheritdoc/>
    protected internal override void OnQueueNotify(SplitVirtqueue queue)
    {
        // While drained the ring is left alone (QEMU detaches the queue handler); DrainedEnd looks again.
        while (!Quiesced && queue.Pop() is { } element)
        {
            if (!HandleElement(queue, element))
                return;
        }
    }

    /// <summary>
    /// Parses one request and completes it at once or submits it. Returns false when the request was
    /// malformed enough to break the device (virtio_error: DEVICE_NEEDS_RESET), as QEMU's -1.
    /// </summary>
    private bool HandleElement(SplitVirtqueue queue, VirtqueueElement element)
    {
        if (element.Readable.Count < 1 || element.Writable.Count < 1)
            return Break("virtio-blk missing headers");
        Span<byte> header = stackalloc byte[OutHeaderSize];
        if (element.Read(0, header) != OutHeaderSize)
            return Break("virtio-blk request outhdr too short");
        // The status byte is the last of the writable part; a chain never has zero-sized buffers, so it fits.
        var type = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var sector = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
        var dataIn = element.WritableLength - 1;
        var dataOut = element.ReadableLength - OutHeaderSize;

        switch (type & ~(TypeOut | TypeBarrier))
        {
            case TypeIn:
            {
                var write = (type & TypeOut) != 0;
                var size = write ? dataOut : dataIn;
                if (!SectorRangeOk(sector, size))
                {
                    Finish(queue, element, StatusIoError);
                    return true;
                }
                var operation = write ? VirtioBlkOperation.Write : VirtioBlkOperation.Read;
                Submit(new VirtioBlkRequest(queue, element, operation) { Offset = (long)(sector << SectorBits), Length = size });
                return true;
            }
            case TypeFlush:
                Submit(new VirtioBlkRequest(queue, element, VirtioBlkOperation.Flush));
                return true;
            case TypeGetId:
                GetId(queue, element, dataIn);
                return true;
            case TypeDiscard & ~TypeOut:
            case TypeWriteZeroes & ~TypeOut:
                return DiscardOrWriteZeroes(queue, element, type, dataOut);
            default:
                Finish(queue, element, StatusUnsupported);
                return true;
        }
    }

    // NB: per the serial-number convention, the string is NUL-terminated only when shorter than the buffer.
    private void GetId(SplitVirtqueue queue, VirtqueueElement element, long dataIn)
    {
        var serial = Encoding.UTF8.GetBytes(Conf.Serial ?? "");
        var size = (int)Math.Min(serial.Length + 1, Math.Min(dataIn, IdBytes));
        Span<byte> id = stackalloc byte[IdBytes + 1];
        id.Clear();
        serial.AsSpan(0, Math.Min(serial.Length, IdBytes)).CopyTo(id);
        element.Write(0, id[..size]);
        Finish(queue, element, StatusOk);
    }

    private bool DiscardOrWriteZeroes(SplitVirtqueue queue, VirtqueueElement element, uint type, long dataOut)
    {
        var writeZeroes = (type & ~TypeBarrier) == TypeWriteZeroes;
        // Only the direction-bit forms with exactly one segment are defined; QEMU serves one segment per request.
        if ((type & TypeOut) == 0 || dataOut > SegmentSize)
        {
            Finish(queue, element, StatusUnsupported);
            return true;
        }
        Span<byte> segment = stackalloc byte[SegmentSize];
        if (element.Read(OutHeaderSize, segment) != SegmentSize)
            return Break("virtio-blk discard/write_zeroes header too short");
        // Not offered (discard=off, write-zeroes=off): the driver should not ask; tell it so.
        if (!(writeZeroes ? Conf.WriteZeroes : Conf.Discard))
        {
            Finish(queue, element, StatusUnsupported);
            return true;
        }
        var sector = BinaryPrimitives.ReadUInt64LittleEndian(segment);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(segment[8..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(segment[12..]);
        var bytes = (long)count << SectorBits;
        if (count > (writeZeroes ? Conf.MaxWriteZeroesSectors : Conf.MaxDiscardSectors) || !SectorRangeOk(sector, bytes))
        {
            Finish(queue, element, StatusIoError);
            return true;
        }
        // Unknown flags are unsupported, and so is unmap on a discard (it always unmaps).
        if ((flags & ~SegmentFlagUnmap) != 0 || (!writeZeroes && flags != 0))
        {
            Finish(queue, element, StatusUnsupported);
            return true;
        }
        var operation = writeZeroes ? VirtioBlkOperation.WriteZeroes : VirtioBlkOperation.Discard;
        Submit(new VirtioBlkRequest(queue, element, operation)
        {
            Offset = (long)(sector << SectorBits),
            Length = bytes,
            Flags = (flags & SegmentFlagUnmap) != 0 ? BlockWriteFlags.MayUnmap : BlockWriteFlags.None,
        });
        return true;
    }

    // virtio_blk_sect_range_ok.
    private bool SectorRangeOk(ulong sector, long size)
    {
        var count = (ulong)size >> SectorBits;
        if (count > RequestMaxSectors)
            return false;
        if ((sector & SectorMask) != 0)
            return false;
        if (size % _logicalBlockSize != 0)
            return false;
        var total = CapacitySectors;
        return sector <= total && count <= total - sector;
    }

    /// <summary>Writes the status byte and returns the element with its whole writable length, as QEMU's in_len.</summary>
    private void Finish(SplitVirtqueue queue, VirtqueueElement element, byte status)
    {
        element.Write(element.WritableLength - 1, [status]);
        Complete(queue, element, (uint)Math.Min(element.WritableLength, uint.MaxValue));
    }

    private bool Break(string message)
    {
        Fail(message);
        return false;
    }
}
