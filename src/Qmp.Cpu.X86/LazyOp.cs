namespace Qmp.Cpu.X86;

/// <summary>
/// The last flag-setting operation, kept instead of EFLAGS' status bits until something reads
/// them (QEMU's cc_op). <see cref="None"/> means the status bits in EFLAGS are current.
/// </summary>
internal enum LazyOp : byte
{
    None,
    Add,
    Adc,
    Sub,
    Sbb,
    Logic,
    Inc,
    Dec,
}
