namespace Qmp.Cpu.X86;

public sealed partial class X86Cpu
{
    /// <summary>Parks the CPU in HLT with interrupts off (firmware with nothing to boot); only a reset wakes it.</summary>
    public void Park()
    {
        EnterFlatProtectedMode(0);
        Halted = true;
    }

    /// <summary>Loads GDTR and IDTR, as boot code leaves them.</summary>
    public void SetDescriptorTables(uint gdtBase, uint gdtLimit, uint idtBase, uint idtLimit)
    {
        GdtrBase = gdtBase;
        GdtrLimit = gdtLimit & 0xFFFF;
        IdtrBase = idtBase;
        IdtrLimit = idtLimit & 0xFFFF;
    }

    /// <summary>Whether the board gives this CPU a local APIC (CPUID reports it).</summary>
    public bool ApicPresent { get; init; }

    /// <summary>General register <paramref name="index"/> in encoding order (0 = EAX … 7 = EDI).</summary>
    public uint GetRegister(int index) => (uint)index < 8 ? Reg(index) : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Sets general register <paramref name="index"/> (loaders and tests).</summary>
    public void SetRegister(int index, uint value)
    {
        if ((uint)index >= 8)
            throw new ArgumentOutOfRangeException(nameof(index));
        Reg(index) = value;
    }

    /// <summary>The instruction pointer (offset in CS).</summary>
    public uint InstructionPointer => Eip;

    /// <summary>EFLAGS with the status flags evaluated.</summary>
    public uint FlagsRegister => Eflags;

    /// <summary>
    /// The state a Multiboot loader hands over (Multiboot spec 3.2, and QEMU's loader): protected
    /// mode without paging, CS a flat 32-bit code segment and the data segments flat, interrupts
    /// off. The default selectors are those of QEMU's multiboot option ROM GDT.
    /// </summary>
    public void EnterFlatProtectedMode(uint eip, ushort codeSelector = 0x08, ushort dataSelector = 0x10, uint eflags = Flags.Reserved1)
    {
        Cr0 = 0x11;
        Eflags = eflags & ~Flags.IF;
        for (var s = 0; s < SegmentRegister.Count; s++)
        {
            ref var seg = ref Seg(s);
            seg.Selector = s == SegmentRegister.CS ? codeSelector : dataSelector;
            seg.Base = 0;
            seg.Limit = 0xFFFFFFFF;
            seg.Attributes = (ushort)((s == SegmentRegister.CS ? 0x9B : 0x93) | SegmentCache.Big | SegmentCache.Granularity);
            seg.Flat = true;
        }
        SetCpl(0);
        Eip = eip;
        Halted = false;
        FlushTlb();
        Blocks.FlushJumpCache();
    }
}
