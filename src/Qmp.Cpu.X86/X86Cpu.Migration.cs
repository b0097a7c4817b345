namespace Qmp.Cpu.X86;

// The CPU's migratable state (QEMU's vmstate_x86_cpu, section "cpu"): every architectural register the
// guest can observe, with the status flags evaluated, so the destination starts from an identical CPU.
public sealed partial class X86Cpu
{
    /// <summary>The version <see cref="SaveState"/> writes.</summary>
    public const int StateVersion = 1;

    /// <summary>Writes the architectural state. Call on the machine thread while the CPU is stopped.</summary>
    public void SaveState(BinaryWriter writer)
    {
        for (var i = 0; i < 8; i++)
            writer.Write(Reg(i));
        writer.Write(Eip);
        writer.Write(Eflags);
        for (var s = 0; s < SegmentRegister.Count; s++)
            WriteSegment(writer, Seg(s));
        WriteSegment(writer, Ldtr);
        WriteSegment(writer, Tr);
        foreach (var value in (ReadOnlySpan<uint>)[GdtrBase, GdtrLimit, IdtrBase, IdtrLimit, Cr0, Cr2, Cr3, Cr4, Dr0, Dr1, Dr2, Dr3, Dr6, Dr7, SysenterCs, SysenterEsp, SysenterEip])
            writer.Write(value);
        writer.Write(TscOffset);
        writer.Write(ApicBase);
        writer.Write(Pat);
        writer.Write(MiscEnable);
        writer.Write((byte)Cpl);
        writer.Write(InterruptShadow);
        writer.Write(Halted);
        writer.Write(NmiBlocked);
        writer.Write(_nmiPending);
    }

    /// <summary>
    /// Restores what <see cref="SaveState"/> wrote: translated code and cached translations are dropped.
    /// </summary>
    /// <exception cref="InvalidDataException">Unknown version or an impossible value, naming the section.</exception>
    /// <exception cref="EndOfStreamException">The section is truncated.</exception>
    public void LoadState(BinaryReader reader, int version)
    {
        if (version != StateVersion)
            throw new InvalidDataException($"section 'cpu': unsupported version {version} (this build reads {StateVersion})");
        Span<uint> gpr = stackalloc uint[8];
        for (var i = 0; i < 8; i++)
            gpr[i] = reader.ReadUInt32();
        var eip = reader.ReadUInt32();
        var eflags = reader.ReadUInt32();
        Span<SegmentCache> segments = stackalloc SegmentCache[SegmentRegister.Count + 2];
        for (var s = 0; s < segments.Length; s++)
            segments[s] = ReadSegment(reader);
        Span<uint> system = stackalloc uint[17];
        for (var i = 0; i < system.Length; i++)
            system[i] = reader.ReadUInt32();
        var tscOffset = reader.ReadUInt64();
        var apicBase = reader.ReadUInt64();
        var pat = reader.ReadUInt64();
        var miscEnable = reader.ReadUInt64();
        var cpl = reader.ReadByte();
        if (cpl > 3)
            throw new InvalidDataException($"section 'cpu': privilege level {cpl} is out of range");
        var shadow = reader.ReadBoolean();
        var halted = reader.ReadBoolean();
        var nmiBlocked = reader.ReadBoolean();
        var nmiPending = reader.ReadBoolean();

        // Everything was read: only now is the CPU changed, so a truncated section leaves it as it was.
        for (var i = 0; i < 8; i++)
            Reg(i) = gpr[i];
        Eip = eip;
        Eflags = eflags;
        for (var s = 0; s < SegmentRegister.Count; s++)
            Seg(s) = segments[s];
        Ldtr = segments[SegmentRegister.Count];
        Tr = segments[SegmentRegister.Count + 1];
        (GdtrBase, GdtrLimit, IdtrBase, IdtrLimit) = (system[0], system[1], system[2], system[3]);
        (Cr0, Cr2, Cr3, Cr4) = (system[4], system[5], system[6], system[7]);
        (Dr0, Dr1, Dr2, Dr3, Dr6, Dr7) = (system[8], system[9], system[10], system[11], system[12], system[13]);
        (SysenterCs, SysenterEsp, SysenterEip) = (system[14], system[15], system[16]);
        TscOffset = tscOffset;
        ApicBase = apicBase;
        Pat = pat;
        MiscEnable = miscEnable;
        SetCpl(cpl);
        InterruptShadow = shadow;
        Halted = halted;
        NmiBlocked = nmiBlocked;
        _nmiPending = nmiPending;
        TripleFaulted = false;
        FlushTlb();
        Blocks.Clear();
        _interruptHint = true;
    }

    private static void WriteSegment(BinaryWriter writer, in SegmentCache segment)
    {
        writer.Write(segment.Selector);
        writer.Write(segment.Base);
        writer.Write(segment.Limit);
        writer.Write(segment.Attributes);
        writer.Write(segment.Flat);
    }

    private static SegmentCache ReadSegment(BinaryReader reader)
    {
        var segment = new SegmentCache
        {
            Selector = reader.ReadUInt16(),
            Base = reader.ReadUInt32(),
            Limit = reader.ReadUInt32(),
            Attributes = reader.ReadUInt16(),
            Flat = reader.ReadBoolean(),
        };
        return segment;
    }
}
