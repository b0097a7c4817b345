using System.Runtime.CompilerServices;

namespace Qmp.Cpu.X86;

/// <summary>
/// The eight general registers in encoding order (EAX ECX EDX EBX ESP EBP ESI EDI) plus a ninth
/// that is always zero, so an absent base or index in an address costs no branch.
/// </summary>
[InlineArray(9)]
internal struct GprFile
{
    private uint _element0;
}
