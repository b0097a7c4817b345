namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// The i440FX PMC as QEMU's <c>i440FX</c> function 00:00.0 (8086:1237 rev 2, host bridge). Its
/// chipset registers (PAM, SMRAM) are plain read/write bytes: BIOS shadowing is not modelled.
/// </summary>
internal sealed class I440fxHostBridge : PciDevice
{
    private const int SmramRegister = 0x72;

    public override string TypeName => "i440FX";

    protected override ushort VendorId => 0x8086;

    protected override ushort DeviceId => 0x1237;

    protected override ushort ClassId => 0x0600;

    protected override byte Revision => 0x02;

    protected override string StateName => "I440FX";

    protected override void RealizePci(RealizeScope scope) => Config[SmramRegister] = 0x02;
}
