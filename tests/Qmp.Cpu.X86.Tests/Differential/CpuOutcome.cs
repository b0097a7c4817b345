namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>The guest state after a case ran: at the end of its code, or at the exception it raised.</summary>
internal sealed class CpuOutcome
{
    /// <summary>EAX ECX EDX EBX ESP EBP ESI EDI.</summary>
    public required uint[] Registers { get; init; }

    /// <summary>Absolute EIP: the end of the code, the faulting instruction (faults) or the next one (traps).</summary>
    public required uint Eip { get; init; }

    /// <summary>Full EFLAGS (RF from exception delivery is not included).</summary>
    public required uint Eflags { get; init; }

    /// <summary>Exception vector (0 #DE, 1 #DB, 3 #BP, 4 #OF, 5 #BR, 6 #UD, 13 #GP, 14 #PF ...), or null when none.</summary>
    public uint? Vector { get; init; }

    /// <summary>Error code pushed by the exception; 0 when the vector has none.</summary>
    public uint ErrorCode { get; init; }

    /// <summary>Faulting linear address for #PF, otherwise 0.</summary>
    public uint Cr2 { get; init; }

    /// <summary>True when the harness watchdog stopped the case (a generator bug: code that never ends).</summary>
    public bool TimedOut { get; init; }

    /// <summary>Contents of the data window afterwards.</summary>
    public required byte[] Data { get; init; }

    public uint StackPointer => Registers[CpuLayout.Esp];
}
