namespace Qmp.Cpu.X86;

/// <summary>
/// The CPU's INTR input, as a PIC (or a local APIC) drives it. Called on the CPU thread.
/// </summary>
public interface IInterruptLine
{
    /// <summary>True while an interrupt request is asserted.</summary>
    bool IsPending { get; }

    /// <summary>The interrupt-acknowledge cycle: returns the vector and updates the controller.</summary>
    int Acknowledge();
}
