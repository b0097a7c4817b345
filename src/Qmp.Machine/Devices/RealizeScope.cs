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

    /// <summary>Realizes a child device (a composite device's part); undone by unrealizing it.</summary>
    public void RealizeChild(Device child)
    {
        child.Realize(Context);
        _undo.Add(child.Unrealize);
    }

    /// <summary>Connects ISA interrupt <paramref name="isaIrq"/> for the device; undone by lowering it, so no interrupt stays asserted.</summary>
    public IrqLine ConnectIrq(int isaIrq)
    {
        var line = Context.IsaIrq(isaIrq);
        _undo.Add(line.Lower);
        return line;
    }

    /// <summary>Takes ownership of a host resource (an fd, a file, a socket) until unrealize or a failed realize.</summary>
    public T Own<T>(T resource) where T : IDisposable
    {
        _undo.Add(resource.Dispose);
        return resource;
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
