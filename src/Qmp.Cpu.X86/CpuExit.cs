namespace Qmp.Cpu.X86;

/// <summary>Why <see cref="X86Cpu.Run"/> returned.</summary>
public enum CpuExit
{
    /// <summary>Someone called <see cref="X86Cpu.RequestExit"/> (the machine has work for a safe point).</summary>
    ExitRequested,

    /// <summary>The guest executed HLT and waits for an interrupt.</summary>
    Halted,

    /// <summary>A fault while delivering a double fault: the processor shuts down (the board resets).</summary>
    TripleFault,

    /// <summary>The block budget given to Run was used up.</summary>
    BudgetExhausted,
}
