using Qmp.Machine.Devices;

namespace Qmp.Machine.Tests.Devices;

/// <summary>An interrupt controller input that records the level and counts rising edges.</summary>
internal sealed class IrqProbe
{
    public IrqProbe() => Line = new IrqLine(Set);

    public IrqLine Line { get; }

    public bool Level { get; private set; }

    public int Rises { get; private set; }

    private void Set(bool level)
    {
        if (level && !Level)
            Rises++;
        Level = level;
    }
}
