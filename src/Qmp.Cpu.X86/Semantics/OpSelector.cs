using Iced.Intel;

namespace Qmp.Cpu.X86.Semantics;

/// <summary>
/// Picks the semantics routine for one decoded instruction (by operand size and operand kinds);
/// returns 0 when qmpd does not implement that form, which then raises #UD.
/// </summary>
internal delegate nint OpSelector(in Instruction instruction);
