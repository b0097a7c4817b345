using System.Buffers.Binary;
using System.Text;
using Qmp.Memory;

namespace Qmp.Machine.Loader;

/// <summary>
/// <c>-kernel</c>: loads a Multiboot v1 kernel (ELF, or a.out-kludge binary) the way QEMU's pc
/// machine does, or a plain ELF32. The layout copies what QEMU 7.2's loader and its
/// multiboot option ROM produce, so guests see the same values: the multiboot info at 0x9500,
/// the e820 memory map at 0x9000, the module list, command line ("PATH APPEND", with the
/// space even when there is no -append) and boot-loader name "qemu" at the first page boundary
/// after the image, modules page-aligned after that. The CPU starts with CS=0x08 and the data
/// segments 0x10 from a five-entry GDT, EAX=0x2BADB002, EBX=0x9500, ECX=entry, ESP=0x6F08.
/// </summary>
public static class MultibootLoader
{
    private const uint InfoAddress = 0x9500;
    private const uint MemoryMapAddress = 0x9000;
    private const uint GdtAddress = 0x9400;
    private const uint BootStack = 0x6F08;
    private const int InfoSize = 88;
    private const int ModuleEntrySize = 16;
    private const uint FlagsProvided = 0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x200;

    /// <summary>QEMU's option-ROM GDT: null, flat 32-bit code (0x08) and data (0x10), 16-bit code and data.</summary>
    private static readonly ulong[] s_gdt = [0, 0x00CF9B000000FFFF, 0x00CF93000000FFFF, 0x00009B000000FFFF, 0x000093000000FFFF];

    /// <summary>Loads <paramref name="kernel"/> into <paramref name="memory"/>.</summary>
    /// <exception cref="InvalidDataException">The image cannot be loaded; the message names the problem.</exception>
    public static KernelImage Load(AddressSpace memory, long ramSize, ReadOnlySpan<byte> kernel, string kernelName, string? append,
        IReadOnlyList<(string Name, byte[] Data)> modules)
    {
        var gdt = new byte[s_gdt.Length * 8];
        for (var n = 0; n < s_gdt.Length; n++)
            BinaryPrimitives.WriteUInt64LittleEndian(gdt.AsSpan(n * 8), s_gdt[n]);
        var header = MultibootHeader.Find(kernel);
        if (header is null)
        {
            if (!ElfImage.IsElf(kernel))
                throw new InvalidDataException("neither a multiboot kernel nor an ELF32 executable");
            if (modules.Count > 0)
                throw new InvalidDataException("-initrd needs a multiboot kernel");
            var plain = ElfImage.Parse(kernel);
            LoadSegments(memory, ramSize, plain);
            memory.LoadImage(GdtAddress, gdt);
            return new KernelImage(plain.Entry, 0, 0, plain.Entry, BootStack, GdtAddress, (uint)gdt.Length - 1);
        }
        uint high, entry;
        if ((header.Flags & MultibootHeader.AoutKludge) != 0)
        {
            var fileStart = header.Offset - (long)(header.HeaderAddress - header.LoadAddress);
            var loadEnd = header.LoadEndAddress == 0 ? header.LoadAddress + (uint)(kernel.Length - fileStart) : header.LoadEndAddress;
            if (fileStart < 0 || loadEnd < header.LoadAddress || fileStart + (loadEnd - header.LoadAddress) > kernel.Length)
                throw new InvalidDataException("multiboot a.out addresses do not fit the file");
            var bssEnd = Math.Max(header.BssEndAddress, loadEnd);
            CheckFits(ramSize, header.LoadAddress, bssEnd);
            memory.LoadImage(header.LoadAddress, kernel.Slice((int)fileStart, (int)(loadEnd - header.LoadAddress)));
            if (bssEnd > loadEnd)
                memory.LoadImage(loadEnd, new byte[bssEnd - loadEnd]);
            (high, entry) = (bssEnd, header.EntryAddress);
        }
        else
        {
            var elf = ElfImage.Parse(kernel);
            LoadSegments(memory, ramSize, elf);
            (high, entry) = (elf.High, elf.Entry);
        }
        // After the image: the module list, then the strings; then each module on its own pages.
        var tableAddress = PageAlign(high);
        var strings = new MemoryStream();
        var stringsAddress = tableAddress + (uint)(modules.Count * ModuleEntrySize);
        uint AddString(string s)
        {
            var at = stringsAddress + (uint)strings.Length;
            strings.Write(Encoding.UTF8.GetBytes(s));
            strings.WriteByte(0);
            return at;
        }
        // QEMU's order: the modules' command lines, the kernel's, then the boot-loader name.
        var moduleNames = modules.Select(m => AddString(m.Name)).ToArray();
        var cmdline = AddString($"{kernelName} {append}");
        var loaderName = AddString("qemu");
        var moduleTable = new byte[modules.Count * ModuleEntrySize];
        var next = PageAlign(stringsAddress + (uint)strings.Length);
        for (var n = 0; n < modules.Count; n++)
        {
            var data = modules[n].Data;
            CheckFits(ramSize, next, next + (uint)data.Length);
            memory.LoadImage(next, data);
            var entrySpan = moduleTable.AsSpan(n * ModuleEntrySize);
            BinaryPrimitives.WriteUInt32LittleEndian(entrySpan, next);
            BinaryPrimitives.WriteUInt32LittleEndian(entrySpan[4..], next + (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(entrySpan[8..], moduleNames[n]);
            next = PageAlign(next + (uint)data.Length);
        }
        CheckFits(ramSize, tableAddress, stringsAddress + (uint)strings.Length);
        memory.LoadImage(tableAddress, moduleTable);
        memory.LoadImage(stringsAddress, strings.ToArray());
        var memoryMap = MemoryMap(ramSize);
        var below4g = (uint)Math.Min(ramSize, 0xE0000000L);
        var info = new byte[InfoSize];
        var i = info.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(i, FlagsProvided);
        BinaryPrimitives.WriteUInt32LittleEndian(i[4..], 639);
        // mem_upper ends where the e820 map's usable RAM ends: below the 128 KiB SeaBIOS reserves.
        BinaryPrimitives.WriteUInt32LittleEndian(i[8..], (below4g - 0x20000) / 1024 - 1024);
        BinaryPrimitives.WriteUInt32LittleEndian(i[12..], 0x8000FFFF);
        BinaryPrimitives.WriteUInt32LittleEndian(i[16..], cmdline);
        BinaryPrimitives.WriteUInt32LittleEndian(i[20..], (uint)modules.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(i[24..], tableAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(i[44..], (uint)memoryMap.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(i[48..], MemoryMapAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(i[64..], loaderName);
        memory.LoadImage(MemoryMapAddress, memoryMap);
        memory.LoadImage(GdtAddress, gdt);
        memory.LoadImage(InfoAddress, info);
        return new KernelImage(entry, MultibootHeader.BootloaderMagic, InfoAddress, entry, BootStack, GdtAddress, (uint)gdt.Length - 1);
    }

    /// <summary>
    /// The e820 map SeaBIOS reports on QEMU's pc machine: conventional memory up to the EBDA,
    /// the BIOS area, RAM above 1 MiB less 128 KiB SeaBIOS reserves at its top, and the
    /// flash mapping below 4 GiB.
    /// </summary>
    public static byte[] MemoryMap(long ramSize)
    {
        var entries = MemoryMapEntries(ramSize);
        var map = new byte[entries.Count * 24];
        for (var n = 0; n < entries.Count; n++)
        {
            var e = map.AsSpan(n * 24);
            BinaryPrimitives.WriteUInt32LittleEndian(e, 20);
            BinaryPrimitives.WriteUInt64LittleEndian(e[4..], entries[n].Base);
            BinaryPrimitives.WriteUInt64LittleEndian(e[12..], entries[n].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], entries[n].Type);
        }
        return map;
    }

    /// <summary>The entries of <see cref="MemoryMap"/> (type 1 usable, 2 reserved).</summary>
    public static IReadOnlyList<(ulong Base, ulong Length, uint Type)> MemoryMapEntries(long ramSize)
    {
        var below4g = Math.Min(ramSize, 0xE0000000L);
        var entries = new List<(ulong Base, ulong Length, uint Type)>
        {
            (0, 0x9FC00, 1),
            (0x9FC00, 0x400, 2),
            (0xF0000, 0x10000, 2),
            (0x100000, (ulong)below4g - 0x100000 - 0x20000, 1),
            ((ulong)below4g - 0x20000, 0x20000, 2),
            (0xFFFC0000, 0x40000, 2),
        };
        if (ramSize > below4g)
            entries.Add((0x100000000, (ulong)(ramSize - below4g), 1));
        return entries;
    }

    private static void LoadSegments(AddressSpace memory, long ramSize, ElfImage elf)
    {
        foreach (var segment in elf.Segments)
        {
            CheckFits(ramSize, segment.PhysicalAddress, segment.PhysicalAddress + segment.MemorySize);
            memory.LoadImage(segment.PhysicalAddress, segment.Data);
            if (segment.MemorySize > segment.Data.Length)
                memory.LoadImage(segment.PhysicalAddress + (uint)segment.Data.Length, new byte[segment.MemorySize - segment.Data.Length]);
        }
    }

    private static void CheckFits(long ramSize, uint start, uint end)
    {
        if (end < start || end > ramSize)
            throw new InvalidDataException($"kernel range {start:#x}-{end:#x} does not fit in {ramSize / (1024 * 1024)} MiB of RAM");
    }

    private static uint PageAlign(uint address) => (address + 0xFFF) & ~0xFFFu;
}
