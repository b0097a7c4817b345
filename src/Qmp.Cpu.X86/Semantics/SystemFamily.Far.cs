using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

internal static unsafe partial class SystemFamily
{
    private static void RegisterFar(OpTableBuilder table)
    {
        table.Add(Mnemonic.Int, (in Instruction i) => P(&IntN));
        table.Add(Mnemonic.Int3, (in Instruction i) => P(&Int3));
        table.Add(Mnemonic.Into, (in Instruction i) => P(&Into));
        table.Add(Mnemonic.Int1, (in Instruction i) => P(&Int1));
        table.Add(Mnemonic.Iret, (in Instruction i) => P(&Iret<Size16>));
        table.Add(Mnemonic.Iretd, (in Instruction i) => P(&Iret<Size32>));
        table.Add(Mnemonic.Retf, (in Instruction i) => i.Code is Code.Retfw or Code.Retfw_imm16 ? P(&Retf<Size16>) : P(&Retf<Size32>));
    }

    public static nint SelectFarJmp(in Instruction i) => i.Op0Kind switch
    {
        OpKind.FarBranch16 => P(&FarJmpImm<Size16>),
        OpKind.FarBranch32 => P(&FarJmpImm<Size32>),
        _ => i.Code == Code.Jmp_m1616 ? P(&FarJmpMem<Size16>) : P(&FarJmpMem<Size32>),
    };

    public static nint SelectFarCall(in Instruction i) => i.Op0Kind switch
    {
        OpKind.FarBranch16 => P(&FarCallImm<Size16>),
        OpKind.FarBranch32 => P(&FarCallImm<Size32>),
        _ => i.Code == Code.Call_m1616 ? P(&FarCallMem<Size16>) : P(&FarCallMem<Size32>),
    };

    private static void IntN(X86Cpu cpu, DecodedOp* op)
    {
        cpu.SoftwareInterrupt((int)(op->Imm & 0xFF), op->NextEip);
        cpu.StopBlock = true;
    }

    private static void Int3(X86Cpu cpu, DecodedOp* op)
    {
        // INT3 is not subject to the VM86 IOPL check.
        cpu.SoftwareInterruptUnchecked(CpuException.BP, op->NextEip);
        cpu.StopBlock = true;
    }

    // INT1 (ICEBP) raises #DB as a trap, without the gate-DPL check of INT n.
    private static void Int1(X86Cpu cpu, DecodedOp* op)
    {
        cpu.DebugTrap(op->NextEip);
        cpu.StopBlock = true;
    }

    private static void Into(X86Cpu cpu, DecodedOp* op)
    {
        if (cpu.Condition(0))
        {
            cpu.SoftwareInterruptUnchecked(CpuException.OF, op->NextEip);
            cpu.StopBlock = true;
        }
    }

    private static (uint Offset, ushort Selector) ReadFarPointer<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var ea = cpu.EffectiveAddress(op);
        var offset = TSize.LoadLinear(cpu, cpu.Linear(op->Seg, ea, TSize.Bits / 8, false));
        var selectorAddress = ea + (uint)TSize.Bits / 8;
        if (op->Addr16 != 0)
            selectorAddress &= 0xFFFF;
        return (offset, cpu.Read16(op->Seg, selectorAddress));
    }

    private static void FarJmpImm<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize => FarJump(cpu, (ushort)op->Imm2, op->Imm & TSize.Mask);

    private static void FarJmpMem<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var (offset, selector) = ReadFarPointer<TSize>(cpu, op);
        FarJump(cpu, selector, offset);
    }

    private static void FarCallImm<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize => FarCall<TSize>(cpu, (ushort)op->Imm2, op->Imm & TSize.Mask, op->NextEip);

    private static void FarCallMem<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var (offset, selector) = ReadFarPointer<TSize>(cpu, op);
        FarCall<TSize>(cpu, selector, offset, op->NextEip);
    }

    private static void FarJump(X86Cpu cpu, ushort selector, uint offset)
    {
        if (!cpu.ProtectedMode || cpu.Vm86)
        {
            if (offset > cpu.Cs.Limit)
                throw X86Cpu.Fault(CpuException.GP, 0);
            cpu.LoadCodeSegmentReal(selector);
            cpu.Eip = offset;
            cpu.StopBlock = true;
            return;
        }
        var (cs, descriptor, gateOffset) = ResolveCodeTarget(cpu, selector, offset, call: false);
        if (offset > cs.Limit && gateOffset is null)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var target = gateOffset ?? offset;
        if (target > cs.Limit)
            throw X86Cpu.Fault(CpuException.GP, 0);
        cpu.MarkDescriptorAccessed(cs.Selector, descriptor);
        cs.Attributes |= 1;
        cpu.LoadCodeSegment(cs.Selector, cs, cpu.Cpl);
        cpu.Eip = target;
        cpu.StopBlock = true;
    }

    // The code segment a far JMP/CALL lands in: directly, or through a call gate (same privilege for
    // JMP; CALL may go inward, which FarCall handles). Returns the gate's offset when a gate was used.
    private static (SegmentCache Cs, ulong Descriptor, uint? GateOffset) ResolveCodeTarget(X86Cpu cpu, ushort selector, uint offset, bool call)
    {
        if ((selector & 0xFFFC) == 0)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var d = cpu.ReadDescriptor(selector);
        var target = X86Cpu.ParseDescriptor(selector, d);
        var error = (uint)selector & 0xFFFC;
        if ((target.Attributes & SegmentCache.System) != 0)
        {
            if (!target.IsCode)
                throw X86Cpu.Fault(CpuException.GP, error);
            var conforming = (target.Type & 4) != 0;
            if (conforming ? target.Dpl > cpu.Cpl : (selector & 3) > cpu.Cpl || target.Dpl != cpu.Cpl)
                throw X86Cpu.Fault(CpuException.GP, error);
            if (!target.IsPresent)
                throw X86Cpu.Fault(CpuException.NP, error);
            return (target, d, null);
        }
        if (target.Type is not (4 or 12))
            throw X86Cpu.Fault(CpuException.GP, error);
        if (target.Dpl < cpu.Cpl || target.Dpl < (selector & 3))
            throw X86Cpu.Fault(CpuException.GP, error);
        if (!target.IsPresent)
            throw X86Cpu.Fault(CpuException.NP, error);
        var codeSelector = (ushort)(d >> 16);
        var gateOffset = (uint)(d & 0xFFFF) | (target.Type == 12 ? (uint)(d >> 32) & 0xFFFF0000 : 0);
        var cs = cpu.CheckCodeDescriptor(codeSelector, out var codeDescriptor);
        var codeConforming = (cs.Type & 4) != 0;
        if (cs.Dpl > cpu.Cpl || (!call && !codeConforming && cs.Dpl != cpu.Cpl))
            throw X86Cpu.Fault(CpuException.GP, (uint)codeSelector & 0xFFFC);
        cs.Selector = codeSelector;
        _ = offset;
        return (cs, codeDescriptor, gateOffset);
    }

    private static void FarCall<TSize>(X86Cpu cpu, ushort selector, uint offset, uint returnEip) where TSize : IOpSize
    {
        if (!cpu.ProtectedMode || cpu.Vm86)
        {
            var oldCs = cpu.Cs.Selector;
            var saved = cpu.Reg(Gpr32.Esp);
            try
            {
                StackFamily.Push<TSize>(cpu, oldCs);
                StackFamily.Push<TSize>(cpu, returnEip);
            }
            catch (GuestFault)
            {
                cpu.Reg(Gpr32.Esp) = saved;
                throw;
            }
            cpu.LoadCodeSegmentReal(selector);
            cpu.Eip = offset;
            cpu.StopBlock = true;
            return;
        }
        var (cs, descriptor, gateOffset) = ResolveCodeTarget(cpu, selector, offset, call: true);
        var target = gateOffset ?? offset;
        if (target > cs.Limit)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var conforming = (cs.Type & 4) != 0;
        var savedEsp = cpu.Reg(Gpr32.Esp);
        var oldCpl = cpu.Cpl;
        if (gateOffset is not null && !conforming && cs.Dpl < cpu.Cpl)
        {
            // Inward call through a gate: switch to the TSS stack of the new ring.
            var gate = cpu.ReadDescriptor(selector);
            var parameters = (int)(gate >> 32) & 0x1F;
            var gate32 = ((gate >> 40) & 0xF) == 12;
            var (ssSelector, esp) = cpu.StackFromTss(cs.Dpl);
            var ss = cpu.CheckStackDescriptor(ssSelector, cs.Dpl);
            var width = gate32 ? 4u : 2u;
            var copied = new uint[parameters];
            for (var n = 0; n < parameters; n++)
                copied[n] = cpu.PeekStack((uint)(width * n), gate32);
            var oldSs = cpu.Ss;
            var oldEsp = cpu.Reg(Gpr32.Esp);
            var oldCs = cpu.Cs.Selector;
            cpu.Ss = ss;
            cpu.Ss.Selector = (ushort)((ssSelector & 0xFFFC) | cs.Dpl);
            cpu.SetCpl(cs.Dpl);
            cpu.Reg(Gpr32.Esp) = ss.Is32 ? esp : (cpu.Reg(Gpr32.Esp) & 0xFFFF0000) | (esp & 0xFFFF);
            try
            {
                PushWidth(cpu, gate32, oldSs.Selector);
                PushWidth(cpu, gate32, oldEsp);
                for (var n = parameters - 1; n >= 0; n--)
                    PushWidth(cpu, gate32, copied[n]);
                PushWidth(cpu, gate32, oldCs);
                PushWidth(cpu, gate32, returnEip);
            }
            catch (GuestFault)
            {
                cpu.Ss = oldSs;
                cpu.Reg(Gpr32.Esp) = oldEsp;
                cpu.SetCpl(oldCpl);
                throw;
            }
            cpu.MarkDescriptorAccessed(cs.Selector, descriptor);
            cs.Attributes |= 1;
            cpu.LoadCodeSegment(cs.Selector, cs, cs.Dpl);
            cpu.Eip = target;
            cpu.StopBlock = true;
            return;
        }
        try
        {
            StackFamily.Push<TSize>(cpu, cpu.Cs.Selector);
            StackFamily.Push<TSize>(cpu, returnEip);
        }
        catch (GuestFault)
        {
            cpu.Reg(Gpr32.Esp) = savedEsp;
            throw;
        }
        cpu.MarkDescriptorAccessed(cs.Selector, descriptor);
        cs.Attributes |= 1;
        cpu.LoadCodeSegment(cs.Selector, cs, cpu.Cpl);
        cpu.Eip = target;
        cpu.StopBlock = true;
    }

    private static void PushWidth(X86Cpu cpu, bool size32, uint value)
    {
        if (size32)
            cpu.Push32(value);
        else
            cpu.Push16(value);
    }

    private static void Retf<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        var width = (uint)TSize.Bits / 8;
        var size32 = TSize.Bits == 32;
        var eip = cpu.PeekStack(0, size32);
        var selector = (ushort)cpu.PeekStack(width, size32);
        if (!cpu.ProtectedMode || cpu.Vm86)
        {
            cpu.SetStackPointer(cpu.StackPointer + 2 * width + op->Imm);
            cpu.LoadCodeSegmentReal(selector);
            cpu.Eip = eip;
            cpu.StopBlock = true;
            return;
        }
        ReturnToCode(cpu, eip, selector, width, size32, op->Imm, restoreFlags: null);
    }

    // Shared by RETF and protected-mode IRET: checks the return CS, and for an outer ring loads the
    // outer SS:ESP and nulls data segments the outer ring may not use.
    private static void ReturnToCode(X86Cpu cpu, uint eip, ushort selector, uint width, bool size32, uint release, uint? restoreFlags)
    {
        var rpl = selector & 3;
        if (rpl < cpu.Cpl)
            throw X86Cpu.Fault(CpuException.GP, (uint)selector & 0xFFFC);
        var cs = cpu.CheckCodeDescriptor(selector, out var descriptor);
        var conforming = (cs.Type & 4) != 0;
        if (conforming ? cs.Dpl > rpl : cs.Dpl != rpl)
            throw X86Cpu.Fault(CpuException.GP, (uint)selector & 0xFFFC);
        var frame = (restoreFlags is null ? 2u : 3u) * width;
        if (rpl == cpu.Cpl)
        {
            if (eip > cs.Limit)
                throw X86Cpu.Fault(CpuException.GP, 0);
            cpu.SetStackPointer(cpu.StackPointer + frame + release);
            cpu.MarkDescriptorAccessed(selector, descriptor);
            cpu.LoadCodeSegment(selector, cs, cpu.Cpl);
        }
        else
        {
            var outerEsp = cpu.PeekStack(frame + release, size32);
            var outerSs = (ushort)cpu.PeekStack(frame + release + width, size32);
            var ss = cpu.CheckStackDescriptor(outerSs, (int)rpl);
            if (eip > cs.Limit)
                throw X86Cpu.Fault(CpuException.GP, 0);
            cpu.MarkDescriptorAccessed(selector, descriptor);
            cpu.LoadCodeSegment(selector, cs, (int)rpl);
            cpu.Ss = ss;
            cpu.Ss.Selector = outerSs;
            cpu.SetStackPointer(outerEsp + (restoreFlags is null ? release : 0));
            cpu.InvalidateOuterSegments();
        }
        cpu.Eip = eip;
        cpu.StopBlock = true;
    }

    private static void Iret<TSize>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize
    {
        cpu.NmiBlocked = false;
        var size32 = TSize.Bits == 32;
        var width = (uint)TSize.Bits / 8;
        if (!cpu.ProtectedMode || cpu.Vm86)
        {
            if (cpu.Vm86 && cpu.Iopl < 3)
                throw X86Cpu.Fault(CpuException.GP, 0);
            var eip = cpu.PeekStack(0, size32);
            var cs = (ushort)cpu.PeekStack(width, size32);
            var flags = cpu.PeekStack(2 * width, size32);
            if (eip > cpu.Cs.Limit)
                throw X86Cpu.Fault(CpuException.GP, 0);
            cpu.SetStackPointer(cpu.StackPointer + 3 * width);
            cpu.LoadCodeSegmentReal(cs);
            cpu.Eip = eip;
            var keep = cpu.Vm86 ? Flags.VM | Flags.IoplMask | Flags.VIP | Flags.VIF : Flags.VM | Flags.VIP | Flags.VIF;
            if (!size32)
                keep |= 0xFFFF0000;
            cpu.SetEflags((cpu.Eflags & keep) | (flags & ~keep));
            cpu.StopBlock = true;
            return;
        }
        if ((cpu.EflagsRaw & Flags.NT) != 0)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var newEip = cpu.PeekStack(0, size32);
        var selector = (ushort)cpu.PeekStack(width, size32);
        var newFlags = cpu.PeekStack(2 * width, size32);
        if (size32 && (newFlags & Flags.VM) != 0 && cpu.Cpl == 0)
        {
            ReturnToVm86(cpu, newEip, selector, newFlags);
            return;
        }
        var oldCpl = cpu.Cpl;
        var oldIopl = cpu.Iopl;
        var oldFlags = cpu.Eflags;
        ReturnToCode(cpu, newEip, selector, width, size32, 0, newFlags);
        var changeable = Flags.Arith | Flags.TF | Flags.DF | Flags.NT | Flags.RF | Flags.AC | Flags.ID;
        if (oldCpl == 0)
            changeable |= Flags.IoplMask | Flags.VIF | Flags.VIP;
        if (oldCpl <= oldIopl)
            changeable |= Flags.IF;
        if (!size32)
            changeable &= 0xFFFF;
        cpu.SetEflags((oldFlags & ~changeable) | (newFlags & changeable));
    }

    private static void ReturnToVm86(X86Cpu cpu, uint eip, ushort cs, uint flags)
    {
        var esp = cpu.PeekStack(12u, true);
        var ss = cpu.PeekStack(16u, true);
        var es = cpu.PeekStack(20u, true);
        var ds = cpu.PeekStack(24u, true);
        var fs = cpu.PeekStack(28u, true);
        var gs = cpu.PeekStack(32u, true);
        cpu.SetEflags(flags);
        cpu.SetCpl(3);
        cpu.Cs.LoadReal(cs, 0xFB);
        cpu.Ss.LoadReal((ushort)ss, 0xF3);
        cpu.Es.LoadReal((ushort)es, 0xF3);
        cpu.Ds.LoadReal((ushort)ds, 0xF3);
        cpu.Fs.LoadReal((ushort)fs, 0xF3);
        cpu.Gs.LoadReal((ushort)gs, 0xF3);
        cpu.Reg(Gpr32.Esp) = esp;
        cpu.Eip = eip & 0xFFFF;
        cpu.StopBlock = true;
    }
}
