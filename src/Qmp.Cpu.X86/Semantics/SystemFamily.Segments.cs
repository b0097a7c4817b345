using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

internal static unsafe partial class SystemFamily
{
    private static void RegisterSegments(OpTableBuilder table)
    {
        table.Add(Mnemonic.Lds, (in Instruction i) => Bits0(i) == 16 ? P(&LoadFarPointer<Size16>) : P(&LoadFarPointer<Size32>));
        table.Add(Mnemonic.Les, (in Instruction i) => Bits0(i) == 16 ? P(&LoadFarPointer<Size16>) : P(&LoadFarPointer<Size32>));
        table.Add(Mnemonic.Lss, (in Instruction i) => Bits0(i) == 16 ? P(&LoadFarPointer<Size16>) : P(&LoadFarPointer<Size32>));
        table.Add(Mnemonic.Lfs, (in Instruction i) => Bits0(i) == 16 ? P(&LoadFarPointer<Size16>) : P(&LoadFarPointer<Size32>));
        table.Add(Mnemonic.Lgs, (in Instruction i) => Bits0(i) == 16 ? P(&LoadFarPointer<Size16>) : P(&LoadFarPointer<Size32>));
        table.Add(Mnemonic.Lgdt, (in Instruction i) => P(&LoadTableRegister));
        table.Add(Mnemonic.Lidt, (in Instruction i) => P(&LoadTableRegister));
        table.Add(Mnemonic.Sgdt, (in Instruction i) => P(&StoreTableRegister));
        table.Add(Mnemonic.Sidt, (in Instruction i) => P(&StoreTableRegister));
        table.Add(Mnemonic.Lldt, (in Instruction i) => Reg0(i) ? P(&Lldt<RegSource0>) : P(&Lldt<MemSource>));
        table.Add(Mnemonic.Ltr, (in Instruction i) => Reg0(i) ? P(&Ltr<RegSource0>) : P(&Ltr<MemSource>));
        table.Add(Mnemonic.Sldt, (in Instruction i) => SelectStoreSelector(i));
        table.Add(Mnemonic.Str, (in Instruction i) => SelectStoreSelector(i));
        table.Add(Mnemonic.Arpl, (in Instruction i) => Reg0(i) ? P(&Arpl<RegLocation>) : P(&Arpl<MemLocation>));
        table.Add(Mnemonic.Lar, (in Instruction i) => SelectAccessRights(i));
        table.Add(Mnemonic.Lsl, (in Instruction i) => SelectAccessRights(i));
        table.Add(Mnemonic.Verr, (in Instruction i) => Reg0(i) ? P(&Verify<RegSource0>) : P(&Verify<MemSource>));
        table.Add(Mnemonic.Verw, (in Instruction i) => Reg0(i) ? P(&Verify<RegSource0>) : P(&Verify<MemSource>));
    }

    public static nint SelectPopSreg(in Instruction i) => i.StackPointerIncrement == 2 ? P(&PopSreg<Size16>) : P(&PopSreg<Size32>);

    private static nint SelectStoreSelector(in Instruction i) =>
        Reg0(i) ? (Bits0(i) == 32 ? P(&StoreSelector<Size32, RegLocation>) : P(&StoreSelector<Size16, RegLocation>)) : P(&StoreSelector<Size16, MemLocation>);

    private static nint SelectAccessRights(in Instruction i) => (Bits0(i), Mem(i, 1)) switch
    {
        (16, false) => P(&AccessRights<Size16, RegSource>),
        (16, true) => P(&AccessRights<Size16, MemSource>),
        (32, false) => P(&AccessRights<Size32, RegSource>),
        _ => P(&AccessRights<Size32, MemSource>),
    };

    private static void LoadSreg(X86Cpu cpu, int seg, ushort selector)
    {
        if (seg == SegmentRegister.CS)
            throw X86Cpu.Fault(CpuException.UD);
        cpu.LoadSegment(seg, selector);
        if (seg == SegmentRegister.SS)
        {
            // Interrupts wait one instruction after a stack switch (MOV SS; MOV ESP).
            cpu.InterruptShadow = true;
            cpu.StopBlock = true;
        }
    }

    private static void MovToSreg<TSrc>(X86Cpu cpu, DecodedOp* op) where TSrc : ISource
    {
        var selector = typeof(TSrc) == typeof(RegSource) ? cpu.Reg(op->R1) & 0xFFFF : TSrc.Read<Size16>(cpu, op);
        LoadSreg(cpu, op->R0, (ushort)selector);
    }

    private static void MovFromSreg<TLoc>(X86Cpu cpu, DecodedOp* op) where TLoc : ILocation =>
        TLoc.Write<Size16>(cpu, op, TLoc.Resolve<Size16>(cpu, op), cpu.Seg(op->R1).Selector);

    // A 32-bit register destination receives the selector zero-extended (P6 and later).
    private static void MovFromSreg32(X86Cpu cpu, DecodedOp* op) => cpu.Reg(op->R0) = cpu.Seg(op->R1).Selector;

    private static void PopSreg<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var selector = cpu.PeekStack(0, TSize.Bits == 32) & 0xFFFF;
        LoadSreg(cpu, op->R0, (ushort)selector);
        cpu.SetStackPointer(cpu.StackPointer + (uint)TSize.Bits / 8);
    }

    private static void LoadFarPointer<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var ea = cpu.EffectiveAddress(op);
        var offset = TSize.LoadLinear(cpu, cpu.Linear(op->Seg, ea, TSize.Bits / 8, false));
        var selectorAddress = ea + (uint)TSize.Bits / 8;
        if (op->Addr16 != 0)
            selectorAddress &= 0xFFFF;
        var selector = cpu.Read16(op->Seg, selectorAddress);
        var seg = (Code)op->Code switch
        {
            Code.Lds_r16_m1616 or Code.Lds_r32_m1632 => SegmentRegister.DS,
            Code.Les_r16_m1616 or Code.Les_r32_m1632 => SegmentRegister.ES,
            Code.Lss_r16_m1616 or Code.Lss_r32_m1632 => SegmentRegister.SS,
            Code.Lfs_r16_m1616 or Code.Lfs_r32_m1632 => SegmentRegister.FS,
            _ => SegmentRegister.GS,
        };
        LoadSreg(cpu, seg, selector);
        TSize.SetReg(cpu, op->R0, offset);
    }

    private static void LoadTableRegister(X86Cpu cpu, DecodedOp* op)
    {
        RequireCpl0(cpu);
        var ea = cpu.EffectiveAddress(op);
        var limit = cpu.Read16(op->Seg, ea);
        var tableBase = cpu.Read32(op->Seg, op->Addr16 != 0 ? (ea + 2) & 0xFFFF : ea + 2);
        var operand16 = (Code)op->Code is Code.Lgdt_m1632_16 or Code.Lidt_m1632_16;
        if (operand16)
            tableBase &= 0xFFFFFF;
        if ((Code)op->Code is Code.Lgdt_m1632_16 or Code.Lgdt_m1632)
        {
            cpu.GdtrBase = tableBase;
            cpu.GdtrLimit = limit;
        }
        else
        {
            cpu.IdtrBase = tableBase;
            cpu.IdtrLimit = limit;
        }
    }

    private static void StoreTableRegister(X86Cpu cpu, DecodedOp* op)
    {
        var gdt = (Code)op->Code is Code.Sgdt_m1632_16 or Code.Sgdt_m1632;
        var ea = cpu.EffectiveAddress(op);
        var linear = cpu.Linear(op->Seg, ea, 6, true);
        cpu.ProbeWrite(linear, 6);
        cpu.Write16(op->Seg, ea, gdt ? cpu.GdtrLimit : cpu.IdtrLimit);
        cpu.Write32(op->Seg, op->Addr16 != 0 ? (ea + 2) & 0xFFFF : ea + 2, gdt ? cpu.GdtrBase : cpu.IdtrBase);
    }

    private static void Lldt<TSrc>(X86Cpu cpu, DecodedOp* op) where TSrc : ISource
    {
        RequireProtectedMode(cpu);
        RequireCpl0(cpu);
        var selector = (ushort)TSrc.Read<Size16>(cpu, op);
        if ((selector & 0xFFFC) == 0)
        {
            cpu.Ldtr = default;
            cpu.Ldtr.Selector = selector;
            return;
        }
        if ((selector & 4) != 0)
            throw X86Cpu.Fault(CpuException.GP, (uint)selector & 0xFFFC);
        var d = cpu.ReadDescriptor(selector);
        var cache = X86Cpu.ParseDescriptor(selector, d);
        if ((cache.Attributes & SegmentCache.System) != 0 || cache.Type != 2)
            throw X86Cpu.Fault(CpuException.GP, (uint)selector & 0xFFFC);
        if (!cache.IsPresent)
            throw X86Cpu.Fault(CpuException.NP, (uint)selector & 0xFFFC);
        cpu.Ldtr = cache;
    }

    private static void Ltr<TSrc>(X86Cpu cpu, DecodedOp* op) where TSrc : ISource
    {
        RequireProtectedMode(cpu);
        RequireCpl0(cpu);
        var selector = (ushort)TSrc.Read<Size16>(cpu, op);
        if ((selector & 0xFFFC) == 0 || (selector & 4) != 0)
            throw X86Cpu.Fault(CpuException.GP, (uint)selector & 0xFFFC);
        var d = cpu.ReadDescriptor(selector);
        var cache = X86Cpu.ParseDescriptor(selector, d);
        if ((cache.Attributes & SegmentCache.System) != 0 || cache.Type is not (1 or 9))
            throw X86Cpu.Fault(CpuException.GP, (uint)selector & 0xFFFC);
        if (!cache.IsPresent)
            throw X86Cpu.Fault(CpuException.NP, (uint)selector & 0xFFFC);
        // Mark the TSS busy in the GDT, as the processor does.
        cpu.WriteSystem8(cpu.GdtrBase + ((uint)selector & 0xFFF8) + 5, (byte)((d >> 40) | 2));
        cache.Attributes |= 2;
        cpu.Tr = cache;
    }

    private static void StoreSelector<TSize, TLoc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TLoc : ILocation
    {
        RequireProtectedMode(cpu);
        var selector = (Code)op->Code is Code.Str_r32m16 or Code.Str_rm16 or Code.Str_r64m16 ? cpu.Tr.Selector : cpu.Ldtr.Selector;
        TLoc.Write<TSize>(cpu, op, TLoc.Resolve<TSize>(cpu, op), selector);
    }

    private static void Arpl<TLoc>(X86Cpu cpu, DecodedOp* op) where TLoc : ILocation
    {
        RequireProtectedMode(cpu);
        var dst = TLoc.Read<Size16>(cpu, op, true, out var handle);
        var src = cpu.Reg(op->R1) & 0xFFFF;
        if ((dst & 3) < (src & 3))
        {
            TLoc.Write<Size16>(cpu, op, handle, (dst & ~3u) | (src & 3));
            cpu.SetStatusFlags(Flags.ZF, Flags.ZF);
        }
        else
        {
            TLoc.Write<Size16>(cpu, op, handle, dst);
            cpu.SetStatusFlags(Flags.ZF, 0);
        }
    }

    // Descriptor types LAR accepts among system descriptors (LSL excludes gates).
    private static bool SystemTypeVisible(int type, bool lsl) => lsl
        ? type is 1 or 2 or 3 or 9 or 11
        : type is 1 or 2 or 3 or 4 or 5 or 9 or 11 or 12;

    private static void AccessRights<TSize, TSrc>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TSrc : ISource
    {
        RequireProtectedMode(cpu);
        var selector = (ushort)(typeof(TSrc) == typeof(RegSource) ? cpu.Reg(op->R1) & 0xFFFF : TSrc.Read<Size16>(cpu, op));
        var lsl = (Code)op->Code is Code.Lsl_r16_rm16 or Code.Lsl_r32_r32m16;
        if (!TryReadVisibleDescriptor(cpu, selector, out var d, s => SystemTypeVisible(s, lsl)))
        {
            cpu.SetStatusFlags(Flags.ZF, 0);
            return;
        }
        uint value;
        if (lsl)
            value = X86Cpu.ParseDescriptor(selector, d).Limit;
        else
            value = (uint)(d >> 32) & 0x00F0FF00;
        TSize.SetReg(cpu, op->R0, value & TSize.Mask);
        cpu.SetStatusFlags(Flags.ZF, Flags.ZF);
    }

    private static void Verify<TSrc>(X86Cpu cpu, DecodedOp* op) where TSrc : ISource
    {
        RequireProtectedMode(cpu);
        var selector = (ushort)TSrc.Read<Size16>(cpu, op);
        var write = (Code)op->Code == Code.Verw_rm16 || (Code)op->Code == Code.Verw_r32m16;
        var ok = TryReadVisibleDescriptor(cpu, selector, out var d, _ => false);
        if (ok)
        {
            var cache = X86Cpu.ParseDescriptor(selector, d);
            ok = write ? cache.IsWritableData : cache.IsReadable;
        }
        cpu.SetStatusFlags(Flags.ZF, ok ? Flags.ZF : 0);
    }

    // The LAR/LSL/VERR/VERW visibility rules: in a table, a known type, and DPL >= max(CPL, RPL)
    // unless a conforming code segment.
    private static bool TryReadVisibleDescriptor(X86Cpu cpu, ushort selector, out ulong descriptor, Func<int, bool> systemTypeOk)
    {
        descriptor = 0;
        if ((selector & 0xFFFC) == 0)
            return false;
        try
        {
            descriptor = cpu.ReadDescriptor(selector);
        }
        catch (GuestFault)
        {
            return false;
        }
        var cache = X86Cpu.ParseDescriptor(selector, descriptor);
        if ((cache.Attributes & SegmentCache.System) == 0)
        {
            if (!systemTypeOk(cache.Type))
                return false;
        }
        else if (cache.IsCode && (cache.Type & 4) != 0)
            return true;
        return cache.Dpl >= Math.Max(cpu.Cpl, selector & 3);
    }
}
