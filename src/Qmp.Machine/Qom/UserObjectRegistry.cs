using Qmp.Memory;

namespace Qmp.Machine.Qom;

/// <summary>The machine's <c>/objects</c>: creation and deletion with QEMU's refusals.</summary>
public sealed class UserObjectRegistry
{
    private readonly List<UserObject> _objects = [];

    /// <summary>The objects, in creation order.</summary>
    public IReadOnlyList<UserObject> List()
    {
        lock (_objects)
            return [.. _objects];
    }

    /// <summary>Registers an object the machine already created (its RAM backend).</summary>
    public void AddExisting(UserObject obj)
    {
        lock (_objects)
            _objects.Add(obj);
    }

    /// <summary>Creates a memory backend (<c>memory-backend-memfd</c> or <c>-ram</c>) and allocates its memory.</summary>
    /// <exception cref="MachineOperationException">A duplicate id, a size of 0, or no memory; QEMU's texts.</exception>
    public UserObject CreateMemoryBackend(string id, string typeName, long size, bool? share)
    {
        lock (_objects)
        {
            if (_objects.Any(o => o.Id == id))
                throw new MachineOperationException($"attempt to add duplicate property '{id}' to object (type 'container')");
        }
        if (size <= 0)
            throw new MachineOperationException("can't create backend with size 0");
        var memfd = typeName == "memory-backend-memfd";
        var shared = share ?? memfd;
        var pageAligned = (size + 4095) & ~4095L;
        RamBlock block;
        try
        {
            block = memfd || shared ? RamBlock.CreateMemfd(id, pageAligned, shared) : RamBlock.CreateAnonymous(id, pageAligned);
        }
        catch (Exception e) when (e is IOException or OutOfMemoryException)
        {
            throw new MachineOperationException($"cannot allocate memory backend '{id}': {e.Message}");
        }
        var obj = new UserObject(id, typeName, size, shared, block);
        lock (_objects)
            _objects.Add(obj);
        return obj;
    }

    /// <summary>Deletes <paramref name="id"/> and frees its memory.</summary>
    /// <exception cref="MachineOperationException">No such object, or the machine uses it.</exception>
    public void Delete(string id)
    {
        UserObject obj;
        lock (_objects)
        {
            obj = _objects.FirstOrDefault(o => o.Id == id) ?? throw new MachineOperationException($"object '{id}' not found");
            if (obj.InUse)
                throw new MachineOperationException($"object '{id}' is in use, can not be deleted");
            _objects.Remove(obj);
        }
        obj.Dispose();
    }
}
