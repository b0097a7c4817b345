namespace Qmp.Machine;

/// <summary>The machine's chardevs by label, in creation order.</summary>
public sealed class ChardevRegistry
{
    private readonly List<Chardev> _chardevs = [];

    /// <summary>Adds a chardev; labels are unique, as QEMU requires.</summary>
    public void Add(Chardev chardev)
    {
        lock (_chardevs)
        {
            if (_chardevs.Any(c => c.Label == chardev.Label))
                throw new MachineOperationException($"attempt to add duplicate property '{chardev.Label}' to object (type 'container')");
            _chardevs.Add(chardev);
        }
    }

    /// <summary>The chardev labelled <paramref name="label"/>, or null.</summary>
    public Chardev? Find(string label)
    {
        lock (_chardevs)
            return _chardevs.FirstOrDefault(c => c.Label == label);
    }

    /// <summary>Removes <paramref name="label"/>; false when there is no such chardev.</summary>
    public bool Remove(string label)
    {
        lock (_chardevs)
            return _chardevs.RemoveAll(c => c.Label == label) > 0;
    }

    /// <summary>A snapshot of the chardevs.</summary>
    public IReadOnlyList<Chardev> List()
    {
        lock (_chardevs)
            return [.. _chardevs];
    }
}
