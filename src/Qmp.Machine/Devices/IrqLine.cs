namespace Qmp.Machine.Devices;

/// <summary>
/// One interrupt request wire from a device to an interrupt controller input (QEMU's qemu_irq).
/// Level-triggered: the device sets the level; edge-triggered controllers see the rising edge.
/// Used on the machine thread.
/// </summary>
public sealed class IrqLine(Action<bool> sink)
{
    private bool _level;

    /// <summary>A line that goes nowhere (an unconnected pin).</summary>
    public static IrqLine Unconnected { get; } = new(static _ => { });

    /// <summary>The current level.</summary>
    public bool Level => _level;

    /// <summary>Drives the line to <paramref name="level"/>.</summary>
    public void Set(bool level)
    {
        _level = level;
        sink(level);
    }

    /// <summary>Drives the line high.</summary>
    public void Raise() => Set(true);

    /// <summary>Drives the line low.</summary>
    public void Lower() => Set(false);

    /// <summary>A high then low pulse (an edge for edge-triggered inputs).</summary>
    public void Pulse()
    {
        Set(true);
        Set(false);
    }
}
