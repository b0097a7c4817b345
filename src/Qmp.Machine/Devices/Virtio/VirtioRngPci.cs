namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// QEMU's <c>virtio-rng-pci</c> in its modern-only form (<c>disable-legacy=on</c>): 1AF4:1044,
/// class 0x00FF, a virtio entropy source for the guest's hwrng.
/// </summary>
public sealed class VirtioRngPci : VirtioPciDevice
{
    /// <summary>Creates the device with its entropy backend; plug it into a <see cref="Pci.PciHost"/>.</summary>
    public VirtioRngPci()
        : base(new VirtioRng())
    {
    }

    /// <inheritdoc/>
    public override string TypeName => "virtio-rng-pci";

    internal VirtioRng Rng => (VirtioRng)Backend;

    /// <inheritdoc/>
    protected override ushort ClassId => 0x00FF;

    /// <inheritdoc/>
    protected override string StateName => "virtio-rng";
}
