using System.Runtime.CompilerServices;
using Qmp.Memory;

namespace Qmp.Cpu.X86;

/// <summary>
/// One x86 CPU (i686 class, 32-bit) executing on its machine's translator thread. It reaches the
/// machine only through the physical address space, the port-I/O space and its interrupt line.
/// </summary>
public sealed partial class X86Cpu
{
    internal GprFile Gpr;
    internal uint Eip;

    // EFLAGS without the status flags while LazyKind != None.
    internal uint EflagsRaw = Flags.Reserved1;
    internal LazyOp LazyKind;
    internal byte LazyBits = 32;
    internal uint LazyResult;
    internal uint LazyDst;
    internal uint LazySrc;
    internal uint LazyCarryIn;

    internal SegmentCache Es, Cs, Ss, Ds, Fs, Gs;
    internal SegmentCache Ldtr, Tr;
    internal uint GdtrBase, GdtrLimit, IdtrBase, IdtrLimit;
    internal uint Cr0, Cr2, Cr3, Cr4;
    internal uint Dr0, Dr1, Dr2, Dr3, Dr6, Dr7;
    internal uint SysenterCs, SysenterEsp, SysenterEip;
    internal ulong TscOffset;
    internal ulong ApicBase = 0xFEE00900;
    internal ulong Pat = 0x0007040600070406;
    internal ulong MiscEnable = 1;

    /// <summary>Current privilege level (CS.RPL in protected mode; 3 in VM86, 0 in real mode).</summary>
    internal int Cpl;

    /// <summary>Interrupts are held off for one instruction after STI, MOV SS or POP SS.</summary>
    internal bool InterruptShadow;

    private readonly AddressSpace _memory;
    private readonly PortIoSpace _io;
    private IInterruptLine? _interruptLine;

    /// <summary>Creates a CPU in its power-on state.</summary>
    public X86Cpu(AddressSpace memory, PortIoSpace io)
    {
        _memory = memory;
        _io = io;
        _memory.LayoutChanged += () => _flushRequested = true;
        Blocks = new TranslationCache(this);
        Reset();
    }

    /// <summary>The physical address space the CPU reads and writes.</summary>
    public AddressSpace Memory => _memory;

    /// <summary>The port-I/O space of IN and OUT.</summary>
    public PortIoSpace Io => _io;

    internal TranslationCache Blocks { get; }

    /// <summary>Connects the INTR pin (a PIC); null leaves it unconnected.</summary>
    public void ConnectInterruptLine(IInterruptLine? line) => _interruptLine = line;

    /// <summary>Reference to general register <paramref name="index"/> (0..7; 8 is the constant zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref uint Reg(int index) => ref Unsafe.Add(ref Unsafe.As<GprFile, uint>(ref Gpr), index);

    /// <summary>Reference to segment register <paramref name="seg"/> (ES CS SS DS FS GS).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref SegmentCache Seg(int seg) => ref Unsafe.Add(ref Es, seg);

    /// <summary>The power-on and RESET state (Intel SDM vol. 3, table 9-1): real mode at F000:FFF0.</summary>
    public void Reset()
    {
        for (var i = 0; i < 9; i++)
            Reg(i) = 0;
        Reg(Gpr32.Edx) = CpuidInfo.Signature;
        Eip = 0xFFF0;
        EflagsRaw = Flags.Reserved1;
        LazyKind = LazyOp.None;
        for (var s = 0; s < SegmentRegister.Count; s++)
            Seg(s).LoadReal(0);
        Cs.LoadReal(0xF000, 0x9B);
        Cs.Base = 0xFFFF0000;
        Ldtr = default;
        Ldtr.Attributes = 0x82;
        Ldtr.Limit = 0xFFFF;
        Tr = default;
        Tr.Attributes = 0x8B;
        Tr.Limit = 0xFFFF;
        GdtrBase = IdtrBase = 0;
        GdtrLimit = IdtrLimit = 0xFFFF;
        Cr0 = 0x60000010;
        Cr2 = Cr3 = Cr4 = 0;
        Dr0 = Dr1 = Dr2 = Dr3 = 0;
        Dr6 = 0xFFFF0FF0;
        Dr7 = 0x400;
        SysenterCs = SysenterEsp = SysenterEip = 0;
        Cpl = 0;
        InterruptShadow = false;
        Halted = false;
        TripleFaulted = false;
        NmiBlocked = false;
        _nmiPending = false;
        TscOffset = 0;
        FlushTlb();
        Blocks.Clear();
    }

    /// <summary>EFLAGS with the status flags computed.</summary>
    internal uint Eflags
    {
        get => LazyKind == LazyOp.None ? EflagsRaw : (EflagsRaw & ~Flags.Arith) | ComputeArithFlags();
        set
        {
            EflagsRaw = (value & Flags.Implemented) | Flags.Reserved1;
            LazyKind = LazyOp.None;
        }
    }

    internal bool ProtectedMode => (Cr0 & 1) != 0;

    internal bool Vm86 => (EflagsRaw & Flags.VM) != 0;

    internal bool PagingEnabled => (Cr0 & 0x80000001) == 0x80000001;
}
