using System.Buffers.Binary;

namespace Qmp.Machine.Loader;

/// <summary>A parsed ELF32 x86 executable: its loadable segments and entry point.</summary>
public sealed class ElfImage
{
    private ElfImage(uint entry, IReadOnlyList<ElfSegment> segments)
    {
        Entry = entry;
        Segments = segments;
    }

    /// <summary>e_entry.</summary>
    public uint Entry { get; }

    /// <summary>The PT_LOAD segments, by physical address.</summary>
    public IReadOnlyList<ElfSegment> Segments { get; }

    /// <summary>Lowest physical address loaded.</summary>
    public uint Low => Segments.Min(s => s.PhysicalAddress);

    /// <summary>First physical address after everything loaded.</summary>
    public uint High => Segments.Max(s => s.PhysicalAddress + s.MemorySize);

    /// <summary>True when <paramref name="file"/> starts with the ELF magic.</summary>
    public static bool IsElf(ReadOnlySpan<byte> file) => file.Length >= 4 && file[0] == 0x7F && file[1] == (byte)'E' && file[2] == (byte)'L' && file[3] == (byte)'F';

    /// <summary>Parses an ELF32 little-endian i386 executable.</summary>
    /// <exception cref="InvalidDataException">The file is not such an ELF or is truncated; the message says what is wrong.</exception>
    public static ElfImage Parse(ReadOnlySpan<byte> file)
    {
        if (!IsElf(file))
            throw new InvalidDataException("not an ELF file");
        if (file.Length < 52 || file[4] != 1 || file[5] != 1)
            throw new InvalidDataException("not a 32-bit little-endian ELF file");
        var type = BinaryPrimitives.ReadUInt16LittleEndian(file[16..]);
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(file[18..]);
        if (type != 2 || machine != 3)
            throw new InvalidDataException($"not an i386 executable (e_type {type}, e_machine {machine})");
        var entry = BinaryPrimitives.ReadUInt32LittleEndian(file[24..]);
        var phoff = BinaryPrimitives.ReadUInt32LittleEndian(file[28..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(file[42..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(file[44..]);
        if (phentsize < 32 || phoff + (long)phentsize * phnum > file.Length)
            throw new InvalidDataException("program headers lie outside the file");
        var segments = new List<ElfSegment>();
        for (var n = 0; n < phnum; n++)
        {
            var ph = file[(int)(phoff + n * phentsize)..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(ph) != 1)
                continue;
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(ph[4..]);
            var paddr = BinaryPrimitives.ReadUInt32LittleEndian(ph[12..]);
            var filesz = BinaryPrimitives.ReadUInt32LittleEndian(ph[16..]);
            var memsz = BinaryPrimitives.ReadUInt32LittleEndian(ph[20..]);
            if (filesz > memsz || offset + (long)filesz > file.Length)
                throw new InvalidDataException($"segment {n} lies outside the file");
            if (memsz == 0)
                continue;
            segments.Add(new ElfSegment(paddr, memsz, file.Slice((int)offset, (int)filesz).ToArray()));
        }
        if (segments.Count == 0)
            throw new InvalidDataException("no loadable segments");
        return new ElfImage(entry, segments);
    }
}
