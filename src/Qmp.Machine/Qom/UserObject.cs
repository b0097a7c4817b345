namespace Qmp.Machine.Qom;

/// <summary>
/// A user-creatable object under <c>/objects</c> (<c>-object</c> or QMP <c>object-add</c>): today a
/// memory backend, which owns its RAM (a memfd or anonymous mapping) from creation.
/// </summary>
public sealed class UserObject(string id, string typeName, long size, bool share, Memory.RamBlock? memory) : IDisposable
{
    public string Id { get; } = id;

    public string TypeName { get; } = typeName;

    public long Size { get; } = size;

    public bool Share { get; } = share;

    /// <summary>The backend's memory; null when the machine's RAM block stands for it.</summary>
    public Memory.RamBlock? Memory { get; } = memory;

    /// <summary>Set when the machine uses the object (it cannot be deleted then).</summary>
    public bool InUse { get; init; }

    public void Dispose() => Memory?.Dispose();
}
