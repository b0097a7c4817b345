using Microsoft.Win32.SafeHandles;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Tests;

/// <summary>A monitor's getfd store in memory, for commands that take named descriptors.</summary>
public sealed class InMemoryFdStore : IQmpFdStore
{
    private readonly Dictionary<string, SafeFileHandle> _fds = [];

    public SafeFileHandle? Peek(string name) => _fds.GetValueOrDefault(name);

    public void Add(string name, SafeFileHandle fd)
    {
        if (_fds.Remove(name, out var old))
            old.Dispose();
        _fds[name] = fd;
    }

    public bool Close(string name)
    {
        var fd = Take(name);
        fd?.Dispose();
        return fd is not null;
    }

    public SafeFileHandle? Take(string name) => _fds.Remove(name, out var fd) ? fd : null;
}
