using Qmp.Block.Backends;

namespace Qmp.Machine.Devices.Virtio;

// The block layer's view of the device (QEMU's virtio_block_ops): drained sections and resize.
internal sealed partial class VirtioBlk : IBlockDevicePort
{
    // Requests issued to the backend whose completion has not been posted yet.
    private int _inFlight;

    // A drained section covers the backend. A flag, not a counter: the backend passes on every
    // begin but only the outermost end.
    private volatile bool _quiesced;

    /// <summary>QEMU's path of the virtio-blk-device child, which query-block shows as qdev.</summary>
    public string QomPath => $"{Proxy?.CanonicalPath ?? "/machine/peripheral-anon/virtio-blk-pci"}/virtio-backend";

    /// <summary>Requests in flight, for tests.</summary>
    internal int InFlightRequests => Volatile.Read(ref _inFlight);

    private bool Quiesced => _quiesced || (_backend?.Quiesced ?? false);

    /// <inheritdoc/>
    public void DrainedBegin() => _quiesced = true;

    /// <inheritdoc/>
    public void DrainedEnd()
    {
        _quiesced = false;
        // Requests may have arrived while the rings were left alone, and with EVENT_IDX the guest does
        // not notify again for them: look at every queue, or the guest waits forever.
        _control?.Post(Rescan);
    }

    /// <inheritdoc/>
    public bool DrainedPoll() => Volatile.Read(ref _inFlight) > 0;

    /// <inheritdoc/>
    public void Resized() => _control?.Post(() =>
    {
        // The capacity is read from the backend whenever the config space is; tell the driver.
        if (_backend is not null)
            NotifyConfigChanged();
    });

    private void Rescan()
    {
        if (Quiesced || _backend is null)
            return;
        SubmitPending();
        foreach (var queue in Queues)
            HandleNotify(queue.Index);
    }
}
