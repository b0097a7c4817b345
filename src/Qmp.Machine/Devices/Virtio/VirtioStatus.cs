namespace Qmp.Machine.Devices.Virtio;

/// <summary>The device status bits (VIRTIO 1.x §2.1).</summary>
internal static class VirtioStatus
{
    public const byte Acknowledge = 0x01;
    public const byte Driver = 0x02;
    public const byte DriverOk = 0x04;
    public const byte FeaturesOk = 0x08;
    public const byte NeedsReset = 0x40;
    public const byte Failed = 0x80;
}
