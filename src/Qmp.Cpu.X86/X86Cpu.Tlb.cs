using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Qmp.Memory;

namespace Qmp.Cpu.X86;

public sealed unsafe partial class X86Cpu
{
    private const int TlbSize = 256;

    // One TLB per privilege (QEMU's mmu_idx): supervisor and user see different rights.
    private readonly TlbEntry[] _kernelTlb = NewTlb();
    private readonly TlbEntry[] _userTlb = NewTlb();
    private TlbEntry[] _tlb = null!;
    private volatile bool _flushRequested;
    private bool _systemAccess;

    /// <summary>Drops every cached translation (CR3 load, paging mode change, memory layout change).</summary>
    internal void FlushTlb()
    {
        Array.Fill(_kernelTlb, new TlbEntry { ReadTag = TlbEntry.Invalid, WriteTag = TlbEntry.Invalid });
        Array.Fill(_userTlb, new TlbEntry { ReadTag = TlbEntry.Invalid, WriteTag = TlbEntry.Invalid });
        _tlb = Cpl == 3 ? _userTlb : _kernelTlb;
        _flushRequested = false;
    }

    /// <summary>INVLPG: drops the entries for one linear page.</summary>
    internal void FlushTlbPage(uint linear)
    {
        var index = (int)((linear >> 12) & (TlbSize - 1));
        _kernelTlb[index] = new TlbEntry { ReadTag = TlbEntry.Invalid, WriteTag = TlbEntry.Invalid };
        _userTlb[index] = new TlbEntry { ReadTag = TlbEntry.Invalid, WriteTag = TlbEntry.Invalid };
    }

    /// <summary>Selects the TLB for the current privilege; called whenever CPL changes.</summary>
    internal void SetCpl(int cpl)
    {
        Cpl = cpl;
        _tlb = cpl == 3 ? _userTlb : _kernelTlb;
    }

    private static TlbEntry[] NewTlb()
    {
        var tlb = new TlbEntry[TlbSize];
        Array.Fill(tlb, new TlbEntry { ReadTag = TlbEntry.Invalid, WriteTag = TlbEntry.Invalid });
        return tlb;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref TlbEntry TlbFor(uint linear) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tlb), (int)((linear >> 12) & (TlbSize - 1)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte ReadLinear8(uint linear)
    {
        ref var e = ref TlbFor(linear);
        if (e.ReadTag == (linear & ~0xFFFu))
            return *(byte*)(e.Addend + (nint)linear); // SAFETY: the entry maps this RAM page.
        return (byte)ReadSlow(linear, 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ushort ReadLinear16(uint linear)
    {
        ref var e = ref TlbFor(linear);
        if (e.ReadTag == (linear & ~0xFFFu) && (linear & 0xFFF) <= 0xFFE)
            return Unsafe.ReadUnaligned<ushort>((void*)(e.Addend + (nint)linear)); // SAFETY: within one mapped RAM page.
        return (ushort)ReadSlow(linear, 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint ReadLinear32(uint linear)
    {
        ref var e = ref TlbFor(linear);
        if (e.ReadTag == (linear & ~0xFFFu) && (linear & 0xFFF) <= 0xFFC)
            return Unsafe.ReadUnaligned<uint>((void*)(e.Addend + (nint)linear)); // SAFETY: within one mapped RAM page.
        return (uint)ReadSlow(linear, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteLinear8(uint linear, byte value)
    {
        ref var e = ref TlbFor(linear);
        if (e.WriteTag == (linear & ~0xFFFu))
            *(byte*)(e.Addend + (nint)linear) = value; // SAFETY: the entry maps this writable RAM page.
        else
            WriteSlow(linear, 1, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteLinear16(uint linear, ushort value)
    {
        ref var e = ref TlbFor(linear);
        if (e.WriteTag == (linear & ~0xFFFu) && (linear & 0xFFF) <= 0xFFE)
            Unsafe.WriteUnaligned((void*)(e.Addend + (nint)linear), value); // SAFETY: within one writable RAM page.
        else
            WriteSlow(linear, 2, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteLinear32(uint linear, uint value)
    {
        ref var e = ref TlbFor(linear);
        if (e.WriteTag == (linear & ~0xFFFu) && (linear & 0xFFF) <= 0xFFC)
            Unsafe.WriteUnaligned((void*)(e.Addend + (nint)linear), value); // SAFETY: within one writable RAM page.
        else
            WriteSlow(linear, 4, value);
    }

    /// <summary>
    /// Read-modify-write instructions check write access before reading (the processor reads
    /// with write intent), so a read-only or absent page faults as a write.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void PrepareWrite(uint linear, int size)
    {
        ref var e = ref TlbFor(linear);
        if (e.WriteTag != (linear & ~0xFFFu) || (linear & 0xFFF) > 0x1000 - (uint)size)
            ProbeWrite(linear, size);
    }

    /// <summary>
    /// Checks that a write of <paramref name="size"/> bytes at <paramref name="linear"/> would
    /// succeed, without writing: instructions that write several places probe first, so a fault
    /// leaves memory untouched.
    /// </summary>
    internal void ProbeWrite(uint linear, int size)
    {
        TranslatePage(linear, Access.Write, out _);
        if ((linear & 0xFFF) + (uint)size > 0x1000)
            TranslatePage((linear | 0xFFF) + 1, Access.Write, out _);
    }

    private uint ReadSlow(uint linear, int size)
    {
        if ((linear & 0xFFF) + (uint)size > 0x1000)
        {
            uint value = 0;
            for (var i = 0; i < size; i++)
                value |= (uint)ReadSlow(linear + (uint)i, 1) << (i * 8);
            return value;
        }
        var phys = TranslatePage(linear, Access.Read, out _);
        var range = _memory.Find(phys);
        if (range is not null && range.Region.Kind != MemoryRegionKind.Io && range.Start <= (phys & ~0xFFFUL) && range.End >= (phys & ~0xFFFUL) + 0x1000 && !_systemAccess)
        {
            ref var e = ref TlbFor(linear);
            if (e.ReadTag != (linear & ~0xFFFu))
                e.WriteTag = TlbEntry.Invalid;
            e.ReadTag = linear & ~0xFFFu;
            e.Addend = (nint)(range.Region.Block!.Host + range.BlockOffsetOf(phys & ~0xFFFUL)) - (nint)(linear & ~0xFFFu);
        }
        return (uint)_memory.Read(phys, size);
    }

    private void WriteSlow(uint linear, int size, uint value)
    {
        if ((linear & 0xFFF) + (uint)size > 0x1000)
        {
            // Probe both pages first so a fault on the second leaves the first unwritten.
            ProbeWrite(linear, size);
            for (var i = 0; i < size; i++)
                WriteSlow(linear + (uint)i, 1, (value >> (i * 8)) & 0xFF);
            return;
        }
        var phys = TranslatePage(linear, Access.Write, out _);
        var range = _memory.Find(phys);
        if (range is not null && range.Region.Kind == MemoryRegionKind.Ram && !_systemAccess)
        {
            var block = range.Region.Block!;
            var pageOffset = range.BlockOffsetOf(phys & ~0xFFFUL);
            var wholePage = range.Start <= (phys & ~0xFFFUL) && range.End >= (phys & ~0xFFFUL) + 0x1000;
            if (wholePage && !block.Dirty.AnyEnabled && !block.IsCodePage(pageOffset >> 12))
            {
                ref var e = ref TlbFor(linear);
                var addend = (nint)(block.Host + pageOffset) - (nint)(linear & ~0xFFFu);
                if (e.ReadTag != (linear & ~0xFFFu) || e.Addend != addend)
                    e.ReadTag = TlbEntry.Invalid;
                e.WriteTag = linear & ~0xFFFu;
                e.Addend = addend;
            }
        }
        _memory.Write(phys, size, value);
    }
}
