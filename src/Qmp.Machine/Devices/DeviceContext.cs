using Qmp.Machine.Timers;
using Qmp.Memory;

namespace Qmp.Machine.Devices;

/// <summary>What a device can reach when it realizes: the board's address spaces, timers, IRQs and controls.</summary>
public sealed class DeviceContext
{
    /// <summary>Guest physical memory.</summary>
    public required AddressSpace Memory { get; init; }

    /// <summary>Port I/O.</summary>
    public required PortIoSpace Io { get; init; }

    /// <summary>Virtual-clock timers (callbacks run on the machine thread).</summary>
    public required TimerQueue Timers { get; init; }

    /// <summary>ISA interrupt <c>n</c> (0..15), wired to the PIC pair.</summary>
    public required Func<int, IrqLine> IsaIrq { get; init; }

    /// <summary>Requests the board makes of the machine (reset, power off, exit).</summary>
    public required IMachineControl Control { get; init; }

    /// <summary>The machine's block graph, where a device's <c>drive=</c> is looked up.</summary>
    public Qmp.Block.BlockGraph Block { get; init; } = new();
}
