using System.Buffers.Binary;
using Qmp.Memory;

namespace Qmp.Machine.Devices.FwCfg;

/// <summary>The fw_cfg DMA interface (port 0x514): descriptors, transfers and status, big-endian as QEMU.</summary>
public sealed partial class FwCfg
{
    // True when every byte of [address, address + length) lies in a mapped region; QEMU's DMA
    // helpers report MEMTX_DECODE_ERROR for holes, which becomes the error bit.
    private static bool IsBacked(AddressSpace memory, ulong address, ulong length)
    {
        while (length > 0)
        {
            if (memory.Find(address) is not { } range)
                return false;
            var available = range.End - address;
            if (range.End == 0 || available >= length)
                return true;
            address += available;
            length -= available;
        }
        return true;
    }

    // The register is big-endian: byte i of the signature sits at port 0x514 + i.
    private ulong ReadDma(ulong offset, int size)
    {
        ulong value = 0;
        for (var i = 0; i < size && (int)offset + i < 8; i++)
            value |= ((DmaSignature >> (8 * (7 - ((int)offset + i)))) & 0xFF) << (8 * i);
        return value;
    }

    private void WriteDma(ulong offset, int size, ulong value)
    {
        switch (size, offset)
        {
            case (4, 0):
                _dmaAddress = (ulong)BinaryPrimitives.ReverseEndianness((uint)value) << 32;
                break;
            case (4, 4):
                _dmaAddress |= BinaryPrimitives.ReverseEndianness((uint)value);
                Transfer();
                break;
            case (8, 0):
                _dmaAddress = BinaryPrimitives.ReverseEndianness(value);
                Transfer();
                break;
        }
    }

    // QEMU's fw_cfg_dma_transfer: read > write > skip; the status (0 or the error bit) replaces
    // the control word. Runs synchronously, so the guest sees the result on its next load.
    private void Transfer()
    {
        var memory = _memory;
        var descriptor = _dmaAddress;
        _dmaAddress = 0;
        if (memory is null)
            return;
        Span<byte> access = stackalloc byte[16];
        if (!IsBacked(memory, descriptor, 16))
        {
            WriteStatus(memory, descriptor, FwCfgDmaControl.Error);
            return;
        }
        memory.Read(descriptor, access);
        var control = BinaryPrimitives.ReadUInt32BigEndian(access);
        var length = BinaryPrimitives.ReadUInt32BigEndian(access[4..]);
        var address = BinaryPrimitives.ReadUInt64BigEndian(access[8..]);

        if ((control & FwCfgDmaControl.Select) != 0)
            Select((ushort)(control >> 16));
        var entry = Current;
        bool read = false, write = false;
        if ((control & FwCfgDmaControl.Read) != 0)
            read = true;
        else if ((control & FwCfgDmaControl.Write) != 0)
            write = true;
        else if ((control & FwCfgDmaControl.Skip) == 0)
            length = 0;

        uint status = 0;
        while (length > 0 && (status & FwCfgDmaControl.Error) == 0)
        {
            uint chunk;
            if (entry is null || _offset >= (uint)entry.Data.Length)
            {
                // Past the end a read fills zeroes and a skip does nothing; a write fails.
                chunk = length;
                if (read && !FillZeroes(memory, address, chunk))
                    status |= FwCfgDmaControl.Error;
                if (write)
                    status |= FwCfgDmaControl.Error;
            }
            else
            {
                chunk = Math.Min(length, (uint)entry.Data.Length - _offset);
                var bytes = entry.Data.AsSpan((int)_offset, (int)chunk);
                if (read)
                {
                    if (!IsBacked(memory, address, chunk))
                        status |= FwCfgDmaControl.Error;
                    memory.Write(address, bytes);
                }
                if (write)
                {
                    // Only writable files, and never past their end (QEMU checks len == length).
                    if (!entry.Writable || chunk != length || !IsBacked(memory, address, chunk))
                        status |= FwCfgDmaControl.Error;
                    else
                        memory.Read(address, bytes);
                }
                _offset += chunk;
            }
            address += chunk;
            length -= chunk;
        }
        WriteStatus(memory, descriptor, status);
    }

    private static bool FillZeroes(AddressSpace memory, ulong address, uint length)
    {
        var backed = IsBacked(memory, address, length);
        for (ulong done = 0; done < length;)
        {
            var n = (int)Math.Min(ZeroChunk, length - done);
            memory.Write(address + done, _zeros.AsSpan(0, n));
            done += (ulong)n;
        }
        return backed;
    }

    private static void WriteStatus(AddressSpace memory, ulong descriptor, uint status)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, status);
        memory.Write(descriptor, bytes);
    }
}
