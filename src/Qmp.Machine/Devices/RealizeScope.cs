using Qmp.Memory;

namespace Qmp.Machine.Devices;

/// <summary>
/// Records the steps of one device's realize so that each can be undone: port and memory
/// mappings, IRQ connections, timers, host resources. Undo runs the steps in reverse and never
/// throws (an undo step that fails is a bug, and later steps still run).
/// </summary>
public sealed class RealizeScope(DeviceContext context)
{
    private readonly List<Action> _undo = [];

    /// <summary>The board the device realizes on.</summary>
    public DeviceContext Context { get; } = context;

    /// <summary>Maps <paramref name="region"/> at <paramref name="port"/> in the port-I/O space.</summary>
    public void MapPorts(ushort port, MemoryRegion region)
    {
        Context.Io.Map(port, region);
        _undo.Add(() => Context.Io.Unmap(region));
    }

    /// <summary>Maps <paramref name="region"/> at <paramref name="address"/> in guest memory.</summary>
    public void MapMemory(ulong address, MemoryRegion region, int priority = 0)
    {
        Context.Memory.Map(address, region, priority);
        _undo.Add(() => Context.Memory.Unmap(region));
    }

    /// <summary>Registers an undo step for something acquired outside the helpers above.</summary>
    public void OnUndo(Action undo) => _undo.Add(undo);

    internal void Undo()
    {
        for (var i = _undo.Count - 1; i >= 0; i--)
        {
            try
            {
                _undo[i]();
            }
            catch
            {
                // Unrealize cannot fail: keep releasing the remaining steps.
            }
        }
        _undo.Clear();
    }
}
