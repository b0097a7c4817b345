namespace Qmp.Cpu.X86;

public sealed partial class X86Cpu
{
    /// <summary>Reads the 8-byte descriptor of <paramref name="selector"/> from the GDT or LDT; #GP(selector) past the table limit.</summary>
    internal ulong ReadDescriptor(ushort selector, int vector = CpuException.GP)
    {
        uint tableBase, tableLimit;
        if ((selector & 4) != 0)
        {
            if (!Ldtr.IsPresent || Ldtr.Selector == 0)
                throw Fault(vector, (uint)selector & 0xFFFC);
            tableBase = Ldtr.Base;
            tableLimit = Ldtr.Limit;
        }
        else
        {
            tableBase = GdtrBase;
            tableLimit = GdtrLimit;
        }
        var index = (uint)selector & 0xFFF8;
        if (index + 7 > tableLimit)
            throw Fault(vector, (uint)selector & 0xFFFC);
        return ReadSystem64(tableBase + index);
    }

    /// <summary>Sets the accessed bit of a segment descriptor, as loading one does.</summary>
    internal void MarkDescriptorAccessed(ushort selector, ulong descriptor)
    {
        if ((descriptor & (1UL << 40)) != 0)
            return;
        var tableBase = (selector & 4) != 0 ? Ldtr.Base : GdtrBase;
        WriteSystem8(tableBase + ((uint)selector & 0xFFF8) + 5, (byte)((descriptor >> 40) | 1));
    }

    internal static SegmentCache ParseDescriptor(ushort selector, ulong d)
    {
        var limit = (uint)(d & 0xFFFF) | (uint)((d >> 32) & 0xF0000);
        var attributes = (ushort)((d >> 40) & 0xF0FF);
        if ((attributes & SegmentCache.Granularity) != 0)
            limit = (limit << 12) | 0xFFF;
        var cache = new SegmentCache
        {
            Selector = selector,
            Base = (uint)((d >> 16) & 0xFFFFFF) | (uint)((d >> 32) & 0xFF000000),
            Limit = limit,
            Attributes = attributes,
        };
        cache.UpdateFlat();
        return cache;
    }

    /// <summary>MOV/POP to a data or stack segment register, with the protected-mode checks of the SDM.</summary>
    internal void LoadSegment(int seg, ushort selector)
    {
        if (!ProtectedMode || Vm86)
        {
            ref var s = ref Seg(seg);
            s.Selector = selector;
            s.Base = (uint)selector << 4;
            if (Vm86)
            {
                s.Limit = 0xFFFF;
                s.Attributes = (ushort)(seg == SegmentRegister.CS ? 0xFB : 0xF3);
            }
            s.UpdateFlat();
            return;
        }
        var rpl = selector & 3;
        if ((selector & 0xFFFC) == 0)
        {
            if (seg == SegmentRegister.SS)
                throw Fault(CpuException.GP, 0);
            ref var n = ref Seg(seg);
            n = default;
            n.Selector = selector;
            return;
        }
        var d = ReadDescriptor(selector);
        var cache = ParseDescriptor(selector, d);
        var errorCode = (uint)selector & 0xFFFC;
        if (seg == SegmentRegister.SS)
        {
            if (rpl != Cpl || cache.Dpl != Cpl || !cache.IsWritableData)
                throw Fault(CpuException.GP, errorCode);
            if (!cache.IsPresent)
                throw Fault(CpuException.SS, errorCode);
        }
        else
        {
            if (!cache.IsReadable)
                throw Fault(CpuException.GP, errorCode);
            var conformingCode = cache.IsCode && (cache.Type & 4) != 0;
            if (!conformingCode && (rpl > cache.Dpl || Cpl > cache.Dpl))
                throw Fault(CpuException.GP, errorCode);
            if (!cache.IsPresent)
                throw Fault(CpuException.NP, errorCode);
        }
        MarkDescriptorAccessed(selector, d);
        cache.Attributes |= 1;
        Seg(seg) = cache;
    }

    /// <summary>Loads CS for a far transfer; real and VM86 modes compute the base from the selector.</summary>
    internal void LoadCodeSegment(ushort selector, SegmentCache cache, int cpl)
    {
        Cs = cache;
        Cs.Selector = (ushort)((selector & 0xFFFC) | cpl);
        SetCpl(cpl);
    }

    internal void LoadCodeSegmentReal(ushort selector)
    {
        Cs.Selector = selector;
        Cs.Base = (uint)selector << 4;
        Cs.UpdateFlat();
    }

    /// <summary>
    /// Checks a code-segment descriptor for a far JMP/CALL/RET or an interrupt gate target; returns
    /// the parsed cache. #GP(selector) for a wrong type or privilege, #NP(selector) when absent.
    /// </summary>
    internal SegmentCache CheckCodeDescriptor(ushort selector, out ulong descriptor)
    {
        if ((selector & 0xFFFC) == 0)
            throw Fault(CpuException.GP, 0);
        descriptor = ReadDescriptor(selector);
        var cache = ParseDescriptor(selector, descriptor);
        if (!cache.IsCode)
            throw Fault(CpuException.GP, (uint)selector & 0xFFFC);
        if (!cache.IsPresent)
            throw Fault(CpuException.NP, (uint)selector & 0xFFFC);
        return cache;
    }

    /// <summary>After a return to an outer ring, data segments the new CPL may not use become null (SDM: RET, IRET).</summary>
    internal void InvalidateOuterSegments()
    {
        foreach (var seg in new[] { SegmentRegister.ES, SegmentRegister.DS, SegmentRegister.FS, SegmentRegister.GS })
        {
            ref var s = ref Seg(seg);
            var conformingCode = s.IsCode && (s.Type & 4) != 0;
            if ((s.Attributes & SegmentCache.System) != 0 && !conformingCode && s.Dpl < Cpl)
            {
                s = default;
            }
        }
    }

    /// <summary>Reads the ring-<paramref name="dpl"/> stack from the 32-bit TSS.</summary>
    internal (ushort Ss, uint Esp) StackFromTss(int dpl)
    {
        var is32 = (Tr.Type & 8) != 0;
        var offset = is32 ? (uint)(dpl * 8 + 4) : (uint)(dpl * 4 + 2);
        var size = is32 ? 8u : 4u;
        if (offset + size - 1 > Tr.Limit)
            throw Fault(CpuException.TS, (uint)Tr.Selector & 0xFFFC);
        if (is32)
            return ((ushort)ReadSystem32(Tr.Base + offset + 4), ReadSystem32(Tr.Base + offset));
        return ((ushort)ReadSystem16(Tr.Base + offset + 2), ReadSystem16(Tr.Base + offset));
    }

    /// <summary>Loads a stack segment for a privilege change; faults are #TS as the SDM says.</summary>
    internal SegmentCache CheckStackDescriptor(ushort selector, int cpl)
    {
        var errorCode = (uint)selector & 0xFFFC;
        if ((selector & 0xFFFC) == 0)
            throw Fault(CpuException.TS, errorCode);
        var d = ReadDescriptor(selector, CpuException.TS);
        var cache = ParseDescriptor(selector, d);
        if ((selector & 3) != cpl || cache.Dpl != cpl || !cache.IsWritableData)
            throw Fault(CpuException.TS, errorCode);
        if (!cache.IsPresent)
            throw Fault(CpuException.SS, errorCode);
        MarkDescriptorAccessed(selector, d);
        cache.Attributes |= 1;
        return cache;
    }

    internal uint ReadSystem32(uint linear)
    {
        var saved = BeginSystemAccess();
        try
        {
            return ReadLinear32(linear);
        }
        finally
        {
            EndSystemAccess(saved);
        }
    }

    internal ushort ReadSystem16(uint linear)
    {
        var saved = BeginSystemAccess();
        try
        {
            return ReadLinear16(linear);
        }
        finally
        {
            EndSystemAccess(saved);
        }
    }

    internal ulong ReadSystem64(uint linear)
    {
        var saved = BeginSystemAccess();
        try
        {
            return ReadLinear32(linear) | ((ulong)ReadLinear32(linear + 4) << 32);
        }
        finally
        {
            EndSystemAccess(saved);
        }
    }

    internal void WriteSystem8(uint linear, byte value)
    {
        var saved = BeginSystemAccess();
        try
        {
            WriteLinear8(linear, value);
        }
        finally
        {
            EndSystemAccess(saved);
        }
    }

    // Descriptor tables and the TSS are read with supervisor rights whatever the CPL (SDM 5.6):
    // switch to the kernel TLB and mark the access so the page walk checks supervisor rights.
    private TlbEntry[] BeginSystemAccess()
    {
        var saved = _tlb;
        _systemAccess = true;
        _tlb = _kernelTlb;
        return saved;
    }

    private void EndSystemAccess(TlbEntry[] saved)
    {
        _systemAccess = false;
        _tlb = saved;
    }
}
