namespace Qmp.Machine;

/// <summary>
/// A character backend for a guest-facing device (serial port, debug console): QEMU's
/// <c>-chardev</c> backends <c>null</c>, <c>file</c>, <c>stdio</c> and <c>ringbuf</c>.
/// </summary>
/// <param name="Id">The chardev id (QEMU names <c>-serial</c> ones <c>serial0</c>, <c>serial1</c>...).</param>
/// <param name="Backend"><c>null</c>, <c>file</c>, <c>stdio</c> or <c>ringbuf</c>.</param>
/// <param name="Path">The file of a <c>file</c> backend.</param>
/// <param name="Size">The size of a <c>ringbuf</c> backend (a power of two).</param>
public sealed record CharBackendConfig(string Id, string Backend, string? Path = null, int Size = 65536)
{
    /// <summary>A <c>file</c> backend appends instead of truncating.</summary>
    public bool Append { get; init; }

    /// <summary>Whether a guest device (a serial port, a debug console) uses the backend.</summary>
    public bool HasFrontend { get; init; }
}
