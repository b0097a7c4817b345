using Iced.Intel;
using static Qmp.Cpu.X86.Semantics.Pick;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>CLC STC CMC CLD STD (CLI and STI depend on privilege and are in <see cref="SystemFamily"/>).</summary>
internal static unsafe class FlagFamily
{
    public static void Register(OpTableBuilder table)
    {
        table.Add(Mnemonic.Clc, (in Instruction i) => P(&Clc));
        table.Add(Mnemonic.Stc, (in Instruction i) => P(&Stc));
        table.Add(Mnemonic.Cmc, (in Instruction i) => P(&Cmc));
        table.Add(Mnemonic.Cld, (in Instruction i) => P(&Cld));
        table.Add(Mnemonic.Std, (in Instruction i) => P(&Std));
    }

    private static void Clc(X86Cpu cpu, DecodedOp* op) => cpu.SetStatusFlags(Flags.CF, 0);

    private static void Stc(X86Cpu cpu, DecodedOp* op) => cpu.SetStatusFlags(Flags.CF, Flags.CF);

    private static void Cmc(X86Cpu cpu, DecodedOp* op) => cpu.SetStatusFlags(Flags.CF, cpu.CF ? 0 : Flags.CF);

    private static void Cld(X86Cpu cpu, DecodedOp* op) => cpu.EflagsRaw &= ~Flags.DF;

    private static void Std(X86Cpu cpu, DecodedOp* op) => cpu.EflagsRaw |= Flags.DF;
}
