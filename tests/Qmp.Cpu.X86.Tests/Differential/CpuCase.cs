using IcedCode = Iced.Intel.Code;

namespace Qmp.Cpu.X86.Tests.Differential;

/// <summary>
/// One differential test case: the guest state before the code runs. The code starts at
/// <see cref="CpuLayout.CodeBase"/>; execution ends when it falls through its last byte (or faults).
/// </summary>
internal sealed class CpuCase
{
    /// <summary>Short unique name for messages, e.g. "Add_rm32_r32 #3 lock".</summary>
    public required string Name { get; init; }

    /// <summary>The instruction form under test, or <see cref="IcedCode.INVALID"/> for hand-written cases.</summary>
    public IcedCode Form { get; init; } = IcedCode.INVALID;

    /// <summary>EAX ECX EDX EBX ESP EBP ESI EDI.</summary>
    public required uint[] Registers { get; init; }

    /// <summary>Input EFLAGS; only <see cref="CpuLayout.InputFlags"/> are honoured, IF and bit 1 are forced on.</summary>
    public required uint Eflags { get; init; }

    /// <summary>Instruction bytes placed at <see cref="CpuLayout.CodeBase"/>.</summary>
    public required byte[] Code { get; init; }

    /// <summary>Initial contents of the data window (<see cref="CpuLayout.DataSize"/> bytes).</summary>
    public required byte[] Data { get; init; }

    /// <summary>
    /// EFLAGS bits that are architecturally defined after the code and must match. When the outcome
    /// is a fault the instruction did not complete, so every bit in <see cref="CpuLayout.ComparedFlags"/> is defined then.
    /// </summary>
    public uint FlagsMask { get; init; } = CpuLayout.ComparedFlags;

    /// <summary>Status flags the SDM leaves undefined after this code (kept for host-specific comparisons).</summary>
    public uint UndefinedFlags { get; init; }

    public uint StackPointer => Registers[CpuLayout.Esp];

    /// <summary>A case with zeroed registers (ESP at <see cref="CpuLayout.DefaultStackPointer"/>), clear flags and zeroed data.</summary>
    public static CpuCase Create(string name, byte[] code, uint[]? registers = null, uint eflags = 0, byte[]? data = null) =>
        new()
        {
            Name = name,
            Code = code,
            Registers = registers ?? [0, 0, 0, 0, CpuLayout.DefaultStackPointer, 0, 0, 0],
            Eflags = eflags,
            Data = data ?? new byte[CpuLayout.DataSize],
        };

    /// <summary>Throws when the case cannot be sent to the harness.</summary>
    public void Validate()
    {
        if (Registers.Length != CpuLayout.RegisterCount)
            throw new InvalidOperationException($"{Name}: expected {CpuLayout.RegisterCount} registers, got {Registers.Length}.");
        if (Data.Length != CpuLayout.DataSize)
            throw new InvalidOperationException($"{Name}: expected {CpuLayout.DataSize} data bytes, got {Data.Length}.");
        if (Code.Length > CpuLayout.MaxCodeLength)
            throw new InvalidOperationException($"{Name}: code is {Code.Length} bytes, at most {CpuLayout.MaxCodeLength} fit.");
    }

    public override string ToString() => Name;
}
