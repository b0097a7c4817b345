namespace Qmp.Machine.Chardevs;

/// <summary>
/// The host side of a character device (QEMU's Chardev backend) as a frontend such as a UART
/// uses it. <see cref="Write"/> never blocks the machine thread: a slow or absent reader makes
/// the backend buffer or drop, never stall the guest.
/// </summary>
public interface ICharBackend
{
    /// <summary>Sends guest output to the host side.</summary>
    void Write(ReadOnlySpan<byte> data);

    /// <summary>
    /// Host input for the frontend. The backend calls it on the machine thread (it posts there),
    /// with at most <see cref="CanReceive"/> bytes.
    /// </summary>
    Action<ReadOnlySpan<byte>>? Received { get; set; }

    /// <summary>How many bytes the frontend can take now (its receive FIFO space); set by the frontend.</summary>
    Func<int>? CanReceive { get; set; }
}
