using Microsoft.Win32.SafeHandles;

namespace Qmp.Schema.Runtime;

/// <summary>
/// The file descriptors one monitor holds by name (QMP <c>getfd</c>/<c>closefd</c>, and what
/// <c>migrate fd:NAME</c> consumes). They belong to the monitor, not to one connection: QEMU keeps
/// them across a client's reconnect. Thread-safe.
/// </summary>
public interface IQmpFdStore
{
    /// <summary>Stores <paramref name="fd"/> under <paramref name="name"/>; a descriptor already there is closed.</summary>
    void Add(string name, SafeFileHandle fd);

    /// <summary>Closes and forgets the descriptor named <paramref name="name"/>; false when there is none.</summary>
    bool Close(string name);

    /// <summary>
    /// Removes the descriptor named <paramref name="name"/> and hands it over: the caller owns it
    /// from now on (QEMU's <c>monitor_get_fd</c>, after which <c>closefd</c> of the name fails).
    /// Null when there is none.
    /// </summary>
    SafeFileHandle? Take(string name);
}
