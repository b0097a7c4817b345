namespace Qmp.Cpu.X86;

public sealed partial class X86Cpu
{
    /// <summary>Set by a triple fault; the machine resets (or shuts down under -no-reboot).</summary>
    internal bool TripleFaulted;

    private volatile bool _nmiPending;

    /// <summary>While an NMI handler runs, further NMIs wait for its IRET.</summary>
    internal bool NmiBlocked;

    /// <summary>Raises the NMI input (QMP inject-nmi, a watchdog). Thread-safe; taken at the next instruction boundary.</summary>
    public void RaiseNmi()
    {
        _nmiPending = true;
        RequestExit();
    }

    // NMIs ignore IF; one is held while the previous handler has not executed IRET.
    private bool TryDeliverNmi()
    {
        if (!_nmiPending || NmiBlocked)
            return false;
        _nmiPending = false;
        NmiBlocked = true;
        ExternalInterrupt(CpuException.NMI);
        return true;
    }

    /// <summary>
    /// Delivers a fault raised by an instruction whose EIP is already restored, escalating to #DF
    /// and to a triple fault as the SDM's table 6-5 says.
    /// </summary>
    internal void DeliverFault(GuestFault fault)
    {
        try
        {
            Deliver(fault.Vector, software: false, fault.HasErrorCode, fault.ErrorCode, Eip, external: false);
        }
        catch (GuestFault second)
        {
            var first = fault.Vector;
            if (first == CpuException.DF)
            {
                TripleFaulted = true;
                return;
            }
            var escalate = (CpuException.IsContributory(first) && CpuException.IsContributory(second.Vector))
                || (first == CpuException.PF && (second.Vector == CpuException.PF || CpuException.IsContributory(second.Vector)));
            DeliverFault(escalate ? Fault(CpuException.DF, 0) : second);
        }
    }

    /// <summary>INT n, INT3, INTO: a software interrupt returning to <paramref name="returnEip"/>.</summary>
    internal void SoftwareInterrupt(int vector, uint returnEip)
    {
        if (Vm86 && Iopl < 3)
            throw Fault(CpuException.GP, 0);
        Deliver(vector, software: true, false, 0, returnEip, external: false);
    }

    /// <summary>INT3 and INTO: software interrupts without the VM86 IOPL check.</summary>
    internal void SoftwareInterruptUnchecked(int vector, uint returnEip) =>
        Deliver(vector, software: true, false, 0, returnEip, external: false);

    /// <summary>The single-step trap after an instruction that ran with TF set: DR6.BS and #DB.</summary>
    internal void SingleStepTrap()
    {
        Dr6 |= 0x4000;
        try
        {
            Deliver(CpuException.DB, software: false, false, 0, Eip, external: false);
        }
        catch (GuestFault fault)
        {
            DeliverFault(fault);
        }
    }

    /// <summary>INT1: a #DB trap delivered like an exception (no gate-DPL check).</summary>
    internal void DebugTrap(uint returnEip) => Deliver(CpuException.DB, software: false, false, 0, returnEip, external: false);

    /// <summary>An interrupt from the PIC (or NMI) at an instruction boundary.</summary>
    internal void ExternalInterrupt(int vector)
    {
        Halted = false;
        try
        {
            Deliver(vector, software: false, false, 0, Eip, external: true);
        }
        catch (GuestFault fault)
        {
            DeliverFault(fault);
        }
    }

    private void Deliver(int vector, bool software, bool hasErrorCode, uint errorCode, uint returnEip, bool external)
    {
        if (!ProtectedMode)
        {
            DeliverReal(vector, returnEip);
            return;
        }
        var ext = external ? 1u : 0u;
        var gateOffset = (uint)vector * 8;
        if (gateOffset + 7 > IdtrLimit)
            throw Fault(CpuException.GP, gateOffset + 2 + ext);
        var gate = ReadSystem64(IdtrBase + gateOffset);
        var type = (int)(gate >> 40) & 0x1F;
        var gateDpl = (int)(gate >> 45) & 3;
        if (type is not (0x06 or 0x07 or 0x0E or 0x0F))
            throw Fault(CpuException.GP, gateOffset + 2 + ext);
        if (software && gateDpl < Cpl)
            throw Fault(CpuException.GP, gateOffset + 2);
        if ((gate & (1UL << 47)) == 0)
            throw Fault(CpuException.NP, gateOffset + 2 + ext);
        var gate32 = (type & 8) != 0;
        var trap = (type & 1) != 0;
        var selector = (ushort)(gate >> 16);
        var offset = (uint)(gate & 0xFFFF) | (uint)((gate >> 32) & 0xFFFF0000);
        if (!gate32)
            offset &= 0xFFFF;
        if ((selector & 0xFFFC) == 0)
            throw Fault(CpuException.GP, ext);
        var target = ReadDescriptor(selector);
        var cs = ParseDescriptor(selector, target);
        var selectorError = ((uint)selector & 0xFFFC) + ext;
        if (!cs.IsCode || cs.Dpl > Cpl)
            throw Fault(CpuException.GP, selectorError);
        if (!cs.IsPresent)
            throw Fault(CpuException.NP, selectorError);
        var conforming = (cs.Type & 4) != 0;
        var oldEflags = Eflags;
        var fromVm86 = Vm86;
        var newCpl = conforming ? Cpl : cs.Dpl;
        if (fromVm86 && newCpl != 0)
            throw Fault(CpuException.GP, selectorError);
        if (newCpl < Cpl)
        {
            var (ssSelector, esp) = StackFromTss(newCpl);
            var ss = CheckStackDescriptor(ssSelector, newCpl);
            var oldSs = Ss.Selector;
            var oldEsp = Reg(Gpr32.Esp);
            var frame = new List<uint>(10);
            if (fromVm86)
            {
                frame.Add(Gs.Selector);
                frame.Add(Fs.Selector);
                frame.Add(Ds.Selector);
                frame.Add(Es.Selector);
            }
            frame.Add(oldSs);
            frame.Add(oldEsp);
            frame.Add(oldEflags);
            frame.Add(Cs.Selector);
            frame.Add(returnEip);
            if (hasErrorCode)
                frame.Add(errorCode);
            // Write the whole frame on the new stack before changing any state, so a fault here
            // leaves the interrupted context intact.
            var width = gate32 ? 4u : 2u;
            var sp = ss.Is32 ? esp : esp & 0xFFFF;
            var top = sp - width * (uint)frame.Count;
            var mask = ss.Is32 ? 0xFFFFFFFFu : 0xFFFFu;
            WriteFrame(ss, top & mask, frame, width, newCpl);
            if (fromVm86)
            {
                Es = default;
                Ds = default;
                Fs = default;
                Gs = default;
            }
            Ss = ss;
            Ss.Selector = (ushort)((ssSelector & 0xFFFC) | newCpl);
            Reg(Gpr32.Esp) = ss.Is32 ? top : (Reg(Gpr32.Esp) & 0xFFFF0000) | (top & 0xFFFF);
        }
        else
        {
            var width = gate32 ? 4u : 2u;
            var frame = new List<uint>(4) { oldEflags, Cs.Selector, returnEip };
            if (hasErrorCode)
                frame.Add(errorCode);
            var sp = StackPointer;
            var top = (sp - width * (uint)frame.Count) & (Stack32 ? 0xFFFFFFFFu : 0xFFFFu);
            WriteFrame(Ss, top, frame, width, Cpl);
            SetStackPointer(top);
        }
        MarkDescriptorAccessed(selector, target);
        cs.Attributes |= 1;
        LoadCodeSegment(selector, cs, newCpl);
        Eip = offset;
        var clear = Flags.TF | Flags.NT | Flags.RF | Flags.VM | (trap ? 0 : Flags.IF);
        EflagsRaw &= ~clear;
        if (fromVm86 || newCpl != Cpl)
            FlushTlbIfCplChanged();
    }

    private void WriteFrame(SegmentCache ss, uint top, List<uint> frame, uint width, int cpl)
    {
        var savedSs = Ss;
        var savedCpl = Cpl;
        Ss = ss;
        SetCpl(cpl);
        try
        {
            // The frame is pushed in order, so the first element sits highest.
            var address = top + width * (uint)(frame.Count - 1);
            var mask = ss.Is32 ? 0xFFFFFFFFu : 0xFFFFu;
            foreach (var value in frame)
            {
                var linear = Linear(SegmentRegister.SS, address & mask, (int)width, true);
                if (width == 4)
                    WriteLinear32(linear, value);
                else
                    WriteLinear16(linear, (ushort)value);
                address -= width;
            }
        }
        finally
        {
            Ss = savedSs;
            SetCpl(savedCpl);
        }
    }

    private void DeliverReal(int vector, uint returnEip)
    {
        var entry = (uint)vector * 4;
        if (entry + 3 > IdtrLimit)
            throw Fault(CpuException.GP, 0);
        var target = ReadLinear32(IdtrBase + entry);
        Push16(Eflags);
        Push16(Cs.Selector);
        Push16(returnEip);
        EflagsRaw &= ~(Flags.IF | Flags.TF | Flags.AC | Flags.RF);
        LoadCodeSegmentReal((ushort)(target >> 16));
        Eip = target & 0xFFFF;
    }

    private void FlushTlbIfCplChanged() => _tlb = Cpl == 3 ? _userTlb : _kernelTlb;

    internal int Iopl => (int)((EflagsRaw >> Flags.IoplShift) & 3);

    /// <summary>Writes EFLAGS (all implemented bits, caller has applied privilege rules).</summary>
    internal void SetEflags(uint value) => Eflags = value;
}
