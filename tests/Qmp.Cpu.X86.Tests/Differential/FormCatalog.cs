using Iced.Intel;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// The instruction forms the differential tests cover: every Iced <see cref="Code"/> that is a
/// legacy-encoded instruction valid in 32-bit mode whose CPUID requirements an i686 (Pentium Pro:
/// 8086..486 integer, CMOV, CX8, multi-byte NOP) meets, minus the forms in <see cref="Skipped"/>.
/// Forms needing a special decoder option (486 A-step CMPXCHG, LOADALL, MOV TR...) are not i686
/// instructions and are not considered at all, nor are FPU/MMX/SSE/VEX forms, CPUID, RDTSC, RDPMC
/// (feature-gated: CPUID/TSC/RDPMC are host-specific or time-dependent) or SYSENTER/SYSEXIT (SEP).
/// Skipped (176 forms with Iced 1.22, reasons in <see cref="SkipReason"/>): privileged/IOPL-sensitive
/// forms (HLT CLI STI IN OUT INS OUTS LGDT LIDT LLDT LTR LMSW CLTS INVD WBINVD INVLPG MOV CRn/DRn);
/// far CALL/JMP/RET and IRET; segment register loads and stores (MOV Sreg, PUSH/POP Sreg, LDS LES
/// LSS LFS LGS); descriptor-table readers (SLDT STR SMSW SGDT SIDT LAR LSL VERR VERW); INT n; FWAIT;
/// near branches with 16-bit operand size (they truncate EIP); reserved-NOP hint space; BSWAP r16;
/// and the AMD-length UD0.
/// </summary>
internal static class FormCatalog
{
    private static readonly HashSet<CpuidFeature> _i686Features =
    [
        CpuidFeature.INTEL8086, CpuidFeature.INTEL186, CpuidFeature.INTEL286, CpuidFeature.INTEL386,
        CpuidFeature.INTEL486, CpuidFeature.CMOV, CpuidFeature.CX8, CpuidFeature.MULTIBYTENOP,
    ];

    private static readonly (IReadOnlyList<Code> Selected, IReadOnlyDictionary<Code, string> Skipped) _catalog = Build();

    /// <summary>Forms that get generated cases, in <see cref="Code"/> order.</summary>
    public static IReadOnlyList<Code> Selected => _catalog.Selected;

    /// <summary>i686 legacy forms that are deliberately not run natively, with the reason.</summary>
    public static IReadOnlyDictionary<Code, string> Skipped => _catalog.Skipped;

    public static FormFamily FamilyOf(Code code)
    {
        var mnemonic = code.Mnemonic();
        var name = mnemonic.ToString();
        if (name.StartsWith("Set", StringComparison.Ordinal))
            return FormFamily.SetCc;
        if (name.StartsWith("Cmov", StringComparison.Ordinal))
            return FormFamily.CmovCc;
        if (code.IsJccShortOrNear())
            return FormFamily.Jump;
        return mnemonic switch
        {
            Mnemonic.Add or Mnemonic.Adc or Mnemonic.Sub or Mnemonic.Sbb or Mnemonic.Cmp or Mnemonic.Neg => FormFamily.Arithmetic,
            Mnemonic.And or Mnemonic.Or or Mnemonic.Xor or Mnemonic.Test or Mnemonic.Not => FormFamily.Logic,
            Mnemonic.Inc or Mnemonic.Dec => FormFamily.IncDec,
            Mnemonic.Mov or Mnemonic.Lea => FormFamily.Move,
            Mnemonic.Movzx or Mnemonic.Movsx or Mnemonic.Cbw or Mnemonic.Cwde or Mnemonic.Cwd or Mnemonic.Cdq => FormFamily.Extend,
            Mnemonic.Xchg or Mnemonic.Bswap => FormFamily.Exchange,
            Mnemonic.Mul or Mnemonic.Imul or Mnemonic.Div or Mnemonic.Idiv => FormFamily.MulDiv,
            Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar => FormFamily.Shift,
            Mnemonic.Rol or Mnemonic.Ror => FormFamily.Rotate,
            Mnemonic.Rcl or Mnemonic.Rcr => FormFamily.RotateThroughCarry,
            Mnemonic.Shld or Mnemonic.Shrd => FormFamily.DoubleShift,
            Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc => FormFamily.BitTest,
            Mnemonic.Bsf or Mnemonic.Bsr => FormFamily.BitScan,
            Mnemonic.Daa or Mnemonic.Das or Mnemonic.Aaa or Mnemonic.Aas or Mnemonic.Aam or Mnemonic.Aad => FormFamily.Bcd,
            Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd or Mnemonic.Cmpsb or Mnemonic.Cmpsw or Mnemonic.Cmpsd
                or Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd or Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd
                or Mnemonic.Scasb or Mnemonic.Scasw or Mnemonic.Scasd => FormFamily.String,
            Mnemonic.Push or Mnemonic.Pop or Mnemonic.Pusha or Mnemonic.Pushad or Mnemonic.Popa or Mnemonic.Popad
                or Mnemonic.Pushf or Mnemonic.Pushfd or Mnemonic.Popf or Mnemonic.Popfd or Mnemonic.Enter or Mnemonic.Leave => FormFamily.Stack,
            Mnemonic.Jmp => FormFamily.Jump,
            Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne or Mnemonic.Jcxz or Mnemonic.Jecxz => FormFamily.Loop,
            Mnemonic.Call or Mnemonic.Ret => FormFamily.CallReturn,
            Mnemonic.Clc or Mnemonic.Stc or Mnemonic.Cmc or Mnemonic.Cld or Mnemonic.Std or Mnemonic.Lahf or Mnemonic.Sahf
                or Mnemonic.Salc => FormFamily.FlagControl,
            Mnemonic.Cmpxchg or Mnemonic.Cmpxchg8b or Mnemonic.Xadd => FormFamily.Atomic,
            Mnemonic.Bound => FormFamily.Bound,
            Mnemonic.Xlatb => FormFamily.Xlat,
            Mnemonic.Int3 or Mnemonic.Into or Mnemonic.Int1 or Mnemonic.Ud0 or Mnemonic.Ud1 or Mnemonic.Ud2 => FormFamily.Trap,
            _ => FormFamily.Misc,
        };
    }

    private static (IReadOnlyList<Code>, IReadOnlyDictionary<Code, string>) Build()
    {
        var selected = new List<Code>();
        var skipped = new Dictionary<Code, string>();
        foreach (var code in Enum.GetValues<Code>())
        {
            var info = code.ToOpCode();
            if (!info.IsInstruction || !info.Mode32 || info.Encoding != EncodingKind.Legacy || info.DecoderOption != DecoderOptions.None)
                continue;
            if (!code.CpuidFeatures().All(_i686Features.Contains))
                continue;
            var reason = SkipReason(code, info);
            if (reason is null)
                selected.Add(code);
            else
                skipped.Add(code, reason);
        }

        return (selected, skipped);
    }

    private static string? SkipReason(Code code, OpCodeInfo info)
    {
        if (info.IsPrivileged || !info.Cpl3 || info.IsInputOutput)
            return "privileged or IOPL-sensitive (HLT, CLI/STI, IN/OUT/INS/OUTS, LGDT, MOV CRn...): #GP in user mode";
        var flow = code.FlowControl();
        var mnemonic = code.Mnemonic();
        if (mnemonic is Mnemonic.Iret or Mnemonic.Iretd || code.IsJmpFar() || code.IsJmpFarIndirect() || code.IsCallFar()
            || code.IsCallFarIndirect() || mnemonic == Mnemonic.Retf)
            return "far transfer or IRET: loads CS from the host GDT";
        if (mnemonic is Mnemonic.Les or Mnemonic.Lds or Mnemonic.Lss or Mnemonic.Lfs or Mnemonic.Lgs
            || Enumerable.Range(0, info.OpCount).Any(i => IsSegmentOperand(info.GetOpKind(i))))
            return "segment register load/store: selector values are host-kernel specific and loads break the flat model";
        if (mnemonic is Mnemonic.Sldt or Mnemonic.Str or Mnemonic.Smsw or Mnemonic.Sgdt or Mnemonic.Sidt
            or Mnemonic.Lar or Mnemonic.Lsl or Mnemonic.Verr or Mnemonic.Verw)
            return "reads descriptor tables/system state: host-kernel specific (and UMIP-emulated by Linux)";
        if (code == Code.Int_imm8)
            return "INT n: int 0x80 is a Linux system call, other vectors hit DPL-0 gates (#GP)";
        if (code == Code.Wait)
            return "FWAIT belongs to the FPU";
        if (info.OperandSize == 16 && flow is FlowControl.UnconditionalBranch or FlowControl.ConditionalBranch or FlowControl.Call
            or FlowControl.IndirectBranch or FlowControl.IndirectCall or FlowControl.Return)
            return "16-bit operand-size near branch: truncates EIP to 16 bits, leaving the code window";
        if (info.IsReservedNop)
            return "reserved-NOP/hint space (0F 0D, 0F 18..1F /r): reused by PREFETCH, MPX, CET, CLDEMOTE on newer CPUs";
        if (code == Code.Bswap_r16)
            return "BSWAP r16: result undefined by the SDM";
        if (code == Code.Ud0)
            return "UD0 without ModRM is the AMD length of 0F FF; the Intel form UD0 r32, r/m32 covers the opcode";
        return null;
    }

    private static bool IsSegmentOperand(OpCodeOperandKind kind) =>
        kind is OpCodeOperandKind.seg_reg or OpCodeOperandKind.es or OpCodeOperandKind.cs or OpCodeOperandKind.ss
            or OpCodeOperandKind.ds or OpCodeOperandKind.fs or OpCodeOperandKind.gs;
}
