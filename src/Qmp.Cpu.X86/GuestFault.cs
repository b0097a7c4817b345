namespace Qmp.Cpu.X86;

/// <summary>
/// Unwinds the interpreter to the instruction boundary when a guest instruction faults. Faults are
/// rare on the hot path, so they use .NET exceptions; the block loop catches them, restores EIP
/// of the faulting instruction and delivers the exception to the guest.
/// </summary>
internal sealed class GuestFault(int vector, uint errorCode, bool hasErrorCode) : Exception(null)
{
    public int Vector { get; } = vector;

    public uint ErrorCode { get; } = errorCode;

    public bool HasErrorCode { get; } = hasErrorCode;

    public override string Message => HasErrorCode ? $"exception {Vector} ({ErrorCode:#x})" : $"exception {Vector}";
}
