using Qmp.Cpu.X86;
using Qmp.Machine.Timers;

namespace Qmp.Machine;

/// <summary>
/// The hardware of a machine that runs a guest: a CPU, its timers and the devices around them.
/// Used only on the machine thread.
/// </summary>
public interface IMachineBoard : IDisposable
{
    /// <summary>The vCPU the translator thread runs.</summary>
    X86Cpu Cpu { get; }

    /// <summary>Virtual-clock timers; their clock pauses while the machine is stopped.</summary>
    TimerQueue Timers { get; }

    /// <summary>System reset: every device, the CPU, and the boot image (QEMU reloads ROMs and the kernel).</summary>
    void Reset();

    /// <summary>The board's devices, in realize order (the QOM tree shows them).</summary>
    IReadOnlyList<Devices.Device> Devices { get; }

    /// <summary>QMP <c>inject-nmi</c>: an NMI through the local APIC's LINT1, as on QEMU's pc (the guest must have set LINT1 to NMI delivery, as firmware does).</summary>
    void InjectNmi();

    /// <summary>Presses the power button the guest can see (QMP <c>system_powerdown</c>).</summary>
    void PressPowerButton();
}
