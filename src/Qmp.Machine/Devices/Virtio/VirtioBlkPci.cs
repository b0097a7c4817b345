namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// QEMU's <c>virtio-blk-pci</c> in its modern-only form (<c>disable-legacy=on</c>): 1AF4:1042, class 0x0100
/// (PCI_CLASS_STORAGE_SCSI, as QEMU gives it), subsystem 1AF4:1100, a virtio disk over the block backend its
/// <c>drive</c> property names. Its qdev properties are those of the virtio-blk-device it carries, which
/// QEMU aliases onto the proxy.
/// </summary>
public sealed partial class VirtioBlkPci : VirtioPciDevice
{
    private string? _canonicalPath;

    /// <summary>Creates the device with its virtio-blk backend; set <see cref="Drive"/>, then plug it into a <see cref="Pci.PciHost"/>.</summary>
    public VirtioBlkPci()
        : base(new VirtioBlk()) => Blk.Proxy = this;

    /// <inheritdoc/>
    public override string TypeName => "virtio-blk-pci";

    /// <summary>
    /// The device's QOM path, e.g. <c>/machine/peripheral/vd0</c>; the board sets it for devices without an id
    /// (QEMU's <c>/machine/peripheral-anon/device[N]</c>). The block layer shows the backend child below it.
    /// </summary>
    public string? CanonicalPath
    {
        get => _canonicalPath ?? (Id is { } id ? $"/machine/peripheral/{id}" : null);
        set => _canonicalPath = value;
    }

    internal VirtioBlk Blk => (VirtioBlk)Backend;

    /// <inheritdoc/>
    protected override ushort ClassId => 0x0100;

    /// <inheritdoc/>
    protected override string StateName => "virtio-blk";

    /// <inheritdoc/>
    protected override void RealizePci(RealizeScope scope)
    {
        // The drive and the queue layout decide the queues and features the transport takes when it attaches.
        Blk.Claim(scope);
        base.RealizePci(scope);
    }
}
