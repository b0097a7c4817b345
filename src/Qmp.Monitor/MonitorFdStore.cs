using Microsoft.Win32.SafeHandles;
using Qmp.Schema.Runtime;

namespace Qmp.Monitor;

/// <summary>A monitor's named descriptors (getfd/closefd); closed when the monitor goes away.</summary>
internal sealed class MonitorFdStore : IQmpFdStore, IDisposable
{
    private readonly Dictionary<string, SafeFileHandle> _fds = new(StringComparer.Ordinal);
    private bool _disposed;

    /// <inheritdoc/>
    public void Add(string name, SafeFileHandle fd)
    {
        SafeFileHandle? old;
        lock (_fds)
        {
            if (_disposed)
            {
                fd.Dispose();
                return;
            }
            _fds.Remove(name, out old);
            _fds[name] = fd;
        }
        old?.Dispose();
    }

    /// <inheritdoc/>
    public bool Close(string name)
    {
        var fd = Take(name);
        fd?.Dispose();
        return fd is not null;
    }

    /// <inheritdoc/>
    public SafeFileHandle? Take(string name)
    {
        lock (_fds)
            return _fds.Remove(name, out var fd) ? fd : null;
    }

    /// <summary>Names held now, for tests and logs.</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_fds)
                return [.. _fds.Keys];
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        List<SafeFileHandle> fds;
        lock (_fds)
        {
            _disposed = true;
            fds = [.. _fds.Values];
            _fds.Clear();
        }
        foreach (var fd in fds)
            fd.Dispose();
    }
}
