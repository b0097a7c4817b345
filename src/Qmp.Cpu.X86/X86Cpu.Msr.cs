using System.Diagnostics;

namespace Qmp.Cpu.X86;

public sealed partial class X86Cpu
{
    /// <summary>
    /// The guest's clock in nanoseconds; the TSC runs at 1 GHz on it. The machine supplies a
    /// virtual clock that stops while the guest is paused.
    /// </summary>
    public Func<long> Clock { get; set; } = static () => (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    internal ulong ReadTsc() => (ulong)Clock() + TscOffset;

    /// <summary>Raised when the guest writes IA32_APIC_BASE (bit 11 enables the local APIC).</summary>
    public event Action<ulong>? ApicBaseChanged;

    /// <summary>
    /// The local APIC's IA32_TSC_DEADLINE (MSR 0x6E0): read, and write with the deadline converted
    /// to the machine's virtual time. Null when the board has no APIC (the MSR then faults).
    /// </summary>
    public (Func<ulong> Read, Action<ulong, long> Write)? TscDeadline { get; set; }

    /// <summary>The MSRs a 32-bit OS touches; null for an MSR that does not exist (#GP).</summary>
    internal ulong? ReadMsr(uint index) => index switch
    {
        0x10 => ReadTsc(),
        0x17 => 0,
        0x1B => ApicBase,
        0x8B => 0,
        0x174 => SysenterCs,
        0x175 => SysenterEsp,
        0x176 => SysenterEip,
        0x1A0 => MiscEnable,
        0x277 => Pat,
        0x6E0 when TscDeadline is { } deadline => deadline.Read(),
        _ => null,
    };

    internal bool WriteMsr(uint index, ulong value)
    {
        switch (index)
        {
            case 0x10:
                TscOffset = value - (ulong)Clock();
                return true;
            case 0x1B:
                ApicBase = value & 0xFFFFF900;
                ApicBaseChanged?.Invoke(ApicBase);
                return true;
            case 0x8B:
                return true;
            case 0x174:
                SysenterCs = (uint)value & 0xFFFF;
                return true;
            case 0x175:
                SysenterEsp = (uint)value;
                return true;
            case 0x176:
                SysenterEip = (uint)value;
                return true;
            case 0x1A0:
                MiscEnable = value;
                return true;
            case 0x277:
                Pat = value;
                return true;
            case 0x6E0 when TscDeadline is { } deadline:
                // The TSC runs at 1 GHz on the clock: the deadline is that many ns from now.
                var now = Clock();
                var tsc = (ulong)now + TscOffset;
                deadline.Write(value, value == 0 ? 0 : value <= tsc ? now : now + (long)Math.Min(value - tsc, (ulong)long.MaxValue / 2));
                return true;
            default:
                return false;
        }
    }
}
