namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>Coarse grouping of instruction forms, used to size and check the generated set.</summary>
internal enum FormFamily
{
    Arithmetic,
    Logic,
    IncDec,
    Move,
    Extend,
    Exchange,
    MulDiv,
    Shift,
    Rotate,
    RotateThroughCarry,
    DoubleShift,
    BitTest,
    BitScan,
    Bcd,
    String,
    Stack,
    Jump,
    Loop,
    CallReturn,
    SetCc,
    CmovCc,
    FlagControl,
    Atomic,
    Bound,
    Xlat,
    Trap,
    Misc,
}
