using Qmp.Cpu.X86;
using Qmp.Machine.Devices.Apic;

namespace Qmp.Machine.Tests.Devices.Apic;

/// <summary>
/// A realized local APIC on a test board with a hand-driven clock, counting what it signals
/// to the CPU and reaching its registers through guest memory.
/// </summary>
internal sealed class ApicHarness
{
    public ApicHarness(IInterruptLine? extIntSource = null)
    {
        Apic = new LocalApic { ClockOverride = Board.Clock, ExtIntSource = extIntSource };
        Apic.InterruptRequested += () => InterruptRequests++;
        Apic.NmiRequested += () => Nmis++;
        Apic.EndOfInterruptBroadcast += Eois.Add;
        Board.Realize(Apic);
    }

    public TestBoard Board { get; } = new();

    public LocalApic Apic { get; }

    public int InterruptRequests { get; private set; }

    public int Nmis { get; private set; }

    public List<int> Eois { get; } = [];

    public ManualClock Clock => Board.Clock;

    public uint Read(int offset) => (uint)Board.Context.Memory.Read(LocalApic.DefaultBaseAddress + (ulong)offset, 4);

    public void Write(int offset, uint value) => Board.Context.Memory.Write(LocalApic.DefaultBaseAddress + (ulong)offset, 4, value);

    /// <summary>Sets the software-enable bit with <paramref name="spurious"/> as the spurious vector.</summary>
    public void Enable(byte spurious = 0xFF) => Write(0xF0, 0x100u | spurious);

    public void Eoi() => Write(0xB0, 0);

    public bool InIrr(int vector) => Bit(0x200, vector);

    public bool InIsr(int vector) => Bit(0x100, vector);

    public bool InTmr(int vector) => Bit(0x180, vector);

    /// <summary>Reads the error status register as software does: write, then read.</summary>
    public uint Errors()
    {
        Write(0x280, 0);
        return Read(0x280);
    }

    private bool Bit(int register, int vector) => (Read(register + (vector >> 5) * 0x10) & (1u << (vector & 31))) != 0;
}
