using Iced.Intel;
using Qmp.Cpu.X86.Semantics;

namespace Qmp.Cpu.X86;

/// <summary>Turns one Iced instruction into a <see cref="DecodedOp"/>: semantics pointer plus operands.</summary>
internal static unsafe class OpDecoder
{
    public static void Fill(in Instruction i, DecodedOp* op, bool code32)
    {
        *op = default;
        op->Code = (ushort)i.Code;
        op->Eip = (uint)i.IP;
        op->NextEip = code32 ? (uint)i.NextIP : (uint)i.NextIP & 0xFFFF;
        op->Length = (byte)i.Length;
        op->Weight = 1;
        op->Base = op->Index = (byte)Gpr32.Zero;
        var handler = i.Code == Code.INVALID ? 0 : OpTable.Select(i);
        op->Handler = handler != 0 ? (delegate*<X86Cpu, DecodedOp*, void>)handler : &SystemFamily.InvalidOpcode;
        var immediateSeen = false;
        for (var n = 0; n < i.OpCount; n++)
        {
            switch (i.GetOpKind(n))
            {
                case OpKind.Register:
                    var number = (byte)i.GetOpRegister(n).GetNumber();
                    if (n == 0) op->R0 = number;
                    else if (n == 1) op->R1 = number;
                    else op->R2 = number;
                    break;
                case OpKind.Memory:
                    FillMemory(i, op);
                    break;
                case OpKind.NearBranch16 or OpKind.NearBranch32:
                    op->Imm = (uint)i.NearBranchTarget;
                    break;
                case OpKind.FarBranch16:
                    op->Imm = i.FarBranch16;
                    op->Imm2 = i.FarBranchSelector;
                    break;
                case OpKind.FarBranch32:
                    op->Imm = i.FarBranch32;
                    op->Imm2 = i.FarBranchSelector;
                    break;
                case OpKind.Immediate8_2nd:
                    op->Imm2 = i.Immediate8_2nd;
                    break;
                case OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate8to16 or OpKind.Immediate8to32:
                    if (!immediateSeen)
                        op->Imm = (uint)i.GetImmediate(n);
                    immediateSeen = true;
                    break;
                case OpKind.MemorySegSI or OpKind.MemorySegESI or OpKind.MemorySegDI or OpKind.MemorySegEDI:
                    op->Seg = (byte)i.MemorySegment.GetNumber();
                    op->Addr16 = (byte)(Pick.StringAddressBits(i) == 16 ? 1 : 0);
                    break;
                case OpKind.MemoryESDI or OpKind.MemoryESEDI:
                    op->Addr16 = (byte)(Pick.StringAddressBits(i) == 16 ? 1 : 0);
                    break;
            }
        }
        if (i.ConditionCode != ConditionCode.None)
            op->Imm2 = (uint)i.ConditionCode - 1;
        op->Aux = i.Mnemonic is Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc or Mnemonic.Bsf or Mnemonic.Bsr
            ? BitFamily.KindOf(i.Mnemonic)
            : ShiftFamily.KindOf(i.Mnemonic);
        if (i.HasRepnePrefix)
            op->Rep = DecodedOp.RepNe;
        else if (i.HasRepePrefix)
            op->Rep = DecodedOp.RepE;
    }

    /// <summary>
    /// Fuses CMP or TEST with the Jcc after it into one op (a superinstruction): one dispatch
    /// instead of two for the commonest pair in compiled code. Returns false when the pair does
    /// not qualify; <paramref name="compare"/> then stays as it was.
    /// </summary>
    public static bool TryFuse(in Instruction first, in Instruction branch, DecodedOp* compare)
    {
        if (first.Mnemonic is not (Mnemonic.Cmp or Mnemonic.Test) || branch.ConditionCode == ConditionCode.None
            || branch.Op0Kind is not (OpKind.NearBranch16 or OpKind.NearBranch32) || first.Mnemonic is Mnemonic.Cmp && first.Op0Kind == OpKind.Memory && first.Op1Kind == OpKind.Register)
            return false;
        var handler = BranchFamily.SelectCompareAndBranch(first);
        if (handler == 0)
            return false;
        compare->Handler = (delegate*<X86Cpu, DecodedOp*, void>)handler;
        compare->Target = (uint)branch.NearBranchTarget;
        compare->Imm2 = (uint)branch.ConditionCode - 1;
        compare->NextEip = (uint)branch.NextIP & (branch.Op0Kind == OpKind.NearBranch16 ? 0xFFFFu : 0xFFFFFFFFu);
        compare->Weight = 2;
        return true;
    }

    private static void FillMemory(in Instruction i, DecodedOp* op)
    {
        var baseRegister = i.MemoryBase;
        var indexRegister = i.MemoryIndex;
        op->Seg = (byte)i.MemorySegment.GetNumber();
        op->Base = (byte)(baseRegister == Register.None ? Gpr32.Zero : baseRegister.GetNumber());
        op->Index = (byte)(indexRegister == Register.None ? Gpr32.Zero : indexRegister.GetNumber());
        op->Scale = (byte)(i.MemoryIndexScale switch { 2 => 1, 4 => 2, 8 => 3, _ => 0 });
        op->Disp = (int)i.MemoryDisplacement32;
        var addr16 = baseRegister.IsGPR16() || indexRegister.IsGPR16()
            || (baseRegister == Register.None && indexRegister == Register.None && i.MemoryDisplSize == 2);
        op->Addr16 = (byte)(addr16 ? 1 : 0);
        // XLAT's index is AL, which the handler reads itself.
        if (i.Mnemonic == Mnemonic.Xlatb)
            op->Index = (byte)Gpr32.Zero;
    }
}
