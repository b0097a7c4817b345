using Microsoft.Win32.SafeHandles;

namespace Qmp.Machine;

/// <summary>
/// A character backend for a guest-facing device (serial port, debug console): QEMU's
/// <c>-chardev</c> backends <c>null</c>, <c>file</c>, <c>stdio</c> and <c>ringbuf</c>.
/// </summary>
/// <param name="Id">The chardev id (QEMU names <c>-serial</c> ones <c>serial0</c>, <c>serial1</c>...).</param>
/// <param name="Backend"><c>null</c>, <c>file</c>, <c>stdio</c>, <c>ringbuf</c> or <c>socket</c>.</param>
/// <param name="Path">The file of a <c>file</c> backend.</param>
/// <param name="Size">The size of a <c>ringbuf</c> backend (a power of two).</param>
public sealed record CharBackendConfig(string Id, string Backend, string? Path = null, int Size = 65536)
{
    /// <summary>A <c>file</c> backend appends instead of truncating.</summary>
    public bool Append { get; init; }

    /// <summary>A <c>socket</c> backend's TCP host and port (when not a unix <see cref="Path"/>).</summary>
    public string? Host { get; init; }

    public int Port { get; init; }

    /// <summary>A TCP <c>socket</c> backend's QEMU inet options (ipv4, ipv6, numeric, to, keep-alive).</summary>
    public Sockets.InetSocketOptions? InetOptions { get; init; }

    /// <summary>
    /// A <c>socket</c> backend on a socket descriptor received with <c>getfd</c> (QEMU's fd socket address), with the
    /// name it was passed under: listening when <see cref="Server"/>, connected otherwise. The backend takes it over.
    /// </summary>
    public (string Name, SafeFileHandle Handle)? Descriptor { get; init; }

    /// <summary>A <c>socket</c> backend listens (<c>server=on</c>) instead of connecting.</summary>
    public bool Server { get; init; }

    /// <summary>A listening <c>socket</c> backend waits for its first client at start-up (<c>wait=on</c>).</summary>
    public bool Wait { get; init; }

    /// <summary>Whether a guest device (a serial port, a debug console) uses the backend.</summary>
    public bool HasFrontend { get; init; }
}
