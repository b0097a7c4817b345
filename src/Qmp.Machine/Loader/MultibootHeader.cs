using System.Buffers.Binary;

namespace Qmp.Machine.Loader;

/// <summary>The Multiboot (v1) header of a kernel image: within the first 8 KiB, 4-byte aligned.</summary>
public sealed record MultibootHeader(uint Flags, int Offset, uint HeaderAddress, uint LoadAddress, uint LoadEndAddress, uint BssEndAddress, uint EntryAddress)
{
    public const uint Magic = 0x1BADB002;
    public const uint BootloaderMagic = 0x2BADB002;
    public const uint AoutKludge = 1u << 16;

    /// <summary>Finds and checks the header; null when the image has none.</summary>
    /// <exception cref="InvalidDataException">A header with a bad checksum or unsupported required flags.</exception>
    public static MultibootHeader? Find(ReadOnlySpan<byte> file)
    {
        var limit = Math.Min(file.Length, 8192) - 12;
        for (var offset = 0; offset <= limit; offset += 4)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(file[offset..]) != Magic)
                continue;
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(file[(offset + 4)..]);
            var checksum = BinaryPrimitives.ReadUInt32LittleEndian(file[(offset + 8)..]);
            if (Magic + flags + checksum != 0)
                continue;
            // Bits 0-15 are requirements: 0 page-aligned modules, 1 memory info, 2 video mode.
            if ((flags & 0xFFF8) != 0)
                throw new InvalidDataException($"multiboot header asks for unsupported features (flags {flags:#x})");
            if ((flags & AoutKludge) != 0)
            {
                if (offset + 32 > file.Length)
                    throw new InvalidDataException("multiboot header is truncated");
                var fields = file.Slice(offset + 12, 20);
                return new MultibootHeader(flags, offset, BinaryPrimitives.ReadUInt32LittleEndian(fields), BinaryPrimitives.ReadUInt32LittleEndian(fields[4..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(fields[8..]), BinaryPrimitives.ReadUInt32LittleEndian(fields[12..]), BinaryPrimitives.ReadUInt32LittleEndian(fields[16..]));
            }
            return new MultibootHeader(flags, offset, 0, 0, 0, 0, 0);
        }
        return null;
    }
}
