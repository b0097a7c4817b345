namespace Qmp.Machine;

/// <summary>
/// A character device as the object model sees it. The transport behind it (a socket owned by a
/// monitor, say) describes itself through <paramref name="describe"/>, because the filename QEMU
/// reports changes with the connection state.
/// </summary>
public sealed class Chardev(string label, Func<string> describe)
{
    /// <summary>The chardev id (<c>compat_monitor0</c> for <c>-qmp</c>).</summary>
    public string Label { get; } = label;

    /// <summary>QEMU's filename string, e.g. <c>unix:/run/vm/qmp.sock,server=on</c>.</summary>
    public string Filename => describe();

    /// <summary>Whether a frontend (a monitor, a serial port) has the device open.</summary>
    public bool FrontendOpen { get; set; }

    /// <summary>The backend guest devices use; null for a monitor's chardev.</summary>
    public Chardevs.ICharBackend? Backend { get; init; }
}
