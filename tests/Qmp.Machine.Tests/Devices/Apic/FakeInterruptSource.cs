using Qmp.Cpu.X86;

namespace Qmp.Machine.Tests.Devices.Apic;

/// <summary>A PIC stand-in: a request the test raises, answered with a fixed vector on INTA.</summary>
internal sealed class FakeInterruptSource(int vector = 0x08) : IInterruptLine
{
    public bool IsPending { get; set; }

    public int Acknowledgements { get; private set; }

    public int Acknowledge()
    {
        Acknowledgements++;
        IsPending = false;
        return vector;
    }
}
