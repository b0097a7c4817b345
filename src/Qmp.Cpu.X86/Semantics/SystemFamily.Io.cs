using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

internal static unsafe partial class SystemFamily
{
    private static void RegisterIo(OpTableBuilder table)
    {
        table.Add(Mnemonic.In, (in Instruction i) =>
        {
            var fromDx = i.Op1Kind == OpKind.Register;
            return BySize(Bits0(i), fromDx ? P(&In<Size8, PortDx>) : P(&In<Size8, PortImm>), fromDx ? P(&In<Size16, PortDx>) : P(&In<Size16, PortImm>),
                fromDx ? P(&In<Size32, PortDx>) : P(&In<Size32, PortImm>));
        });
        table.Add(Mnemonic.Out, (in Instruction i) =>
        {
            var toDx = i.Op0Kind == OpKind.Register;
            return BySize(Bits1(i), toDx ? P(&Out<Size8, PortDx>) : P(&Out<Size8, PortImm>), toDx ? P(&Out<Size16, PortDx>) : P(&Out<Size16, PortImm>),
                toDx ? P(&Out<Size32, PortDx>) : P(&Out<Size32, PortImm>));
        });
        table.Add(Mnemonic.Insb, (in Instruction i) => StringAddressBits(i) == 16 ? P(&Ins<Size8, Counter16>) : P(&Ins<Size8, Counter32>));
        table.Add(Mnemonic.Insw, (in Instruction i) => StringAddressBits(i) == 16 ? P(&Ins<Size16, Counter16>) : P(&Ins<Size16, Counter32>));
        table.Add(Mnemonic.Insd, (in Instruction i) => StringAddressBits(i) == 16 ? P(&Ins<Size32, Counter16>) : P(&Ins<Size32, Counter32>));
        table.Add(Mnemonic.Outsb, (in Instruction i) => StringAddressBits(i) == 16 ? P(&Outs<Size8, Counter16>) : P(&Outs<Size8, Counter32>));
        table.Add(Mnemonic.Outsw, (in Instruction i) => StringAddressBits(i) == 16 ? P(&Outs<Size16, Counter16>) : P(&Outs<Size16, Counter32>));
        table.Add(Mnemonic.Outsd, (in Instruction i) => StringAddressBits(i) == 16 ? P(&Outs<Size32, Counter16>) : P(&Outs<Size32, Counter32>));
    }

    /// <summary>
    /// IOPL and the TSS I/O permission bitmap (SDM 19.5): at CPL &gt; IOPL or in VM86, every bit
    /// for the accessed ports must be clear and inside the TSS limit, else #GP(0).
    /// </summary>
    public static void CheckIoPermission(X86Cpu cpu, uint port, int size)
    {
        if (!cpu.ProtectedMode || (!cpu.Vm86 && cpu.Cpl <= cpu.Iopl))
            return;
        if ((cpu.Tr.Type & 8) == 0 || cpu.Tr.Limit < 0x67)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var bitmapBase = (uint)cpu.ReadSystem16(cpu.Tr.Base + 0x66);
        var byteOffset = bitmapBase + (port >> 3);
        if (byteOffset + 1 > cpu.Tr.Limit)
            throw X86Cpu.Fault(CpuException.GP, 0);
        var bits = cpu.ReadSystem16(cpu.Tr.Base + byteOffset);
        var mask = ((1u << size) - 1) << (int)(port & 7);
        if ((bits & mask) != 0)
            throw X86Cpu.Fault(CpuException.GP, 0);
    }

    private static void In<TSize, TPort>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TPort : IPort
    {
        var port = TPort.Get(cpu, op);
        CheckIoPermission(cpu, port, TSize.Bits / 8);
        TSize.SetReg(cpu, Gpr32.Eax, cpu.Io.Read((ushort)port, TSize.Bits / 8));
        // A device may have raised an interrupt or asked the machine to stop.
        cpu.StopBlock = true;
    }

    private static void Out<TSize, TPort>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TPort : IPort
    {
        var port = TPort.Get(cpu, op);
        CheckIoPermission(cpu, port, TSize.Bits / 8);
        cpu.Io.Write((ushort)port, TSize.Bits / 8, TSize.GetReg(cpu, Gpr32.Eax));
        cpu.StopBlock = true;
    }

    private static void Ins<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter
    {
        CheckIoPermission(cpu, cpu.Reg(Gpr32.Edx) & 0xFFFF, TSize.Bits / 8);
        StringFamily.Repeat<TCounter>(cpu, op, &InsElement<TSize, TCounter>);
    }

    private static bool InsElement<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter
    {
        var target = cpu.Linear(SegmentRegister.ES, cpu.Reg(Gpr32.Edi) & TCounter.Mask, TSize.Bits / 8, true);
        cpu.ProbeWrite(target, TSize.Bits / 8);
        var value = cpu.Io.Read((ushort)cpu.Reg(Gpr32.Edx), TSize.Bits / 8);
        TSize.StoreLinear(cpu, target, value);
        StringFamily.Advance<TCounter>(cpu, Gpr32.Edi, StringFamily.Step<TSize>(cpu));
        return true;
    }

    private static void Outs<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter
    {
        CheckIoPermission(cpu, cpu.Reg(Gpr32.Edx) & 0xFFFF, TSize.Bits / 8);
        StringFamily.Repeat<TCounter>(cpu, op, &OutsElement<TSize, TCounter>);
    }

    private static bool OutsElement<TSize, TCounter>(X86Cpu cpu, DecodedOp* op) where TSize : IOpSize where TCounter : ICounter
    {
        var source = cpu.Linear(op->Seg, cpu.Reg(Gpr32.Esi) & TCounter.Mask, TSize.Bits / 8, false);
        cpu.Io.Write((ushort)cpu.Reg(Gpr32.Edx), TSize.Bits / 8, TSize.LoadLinear(cpu, source));
        StringFamily.Advance<TCounter>(cpu, Gpr32.Esi, StringFamily.Step<TSize>(cpu));
        return true;
    }
}
