namespace Qmp.Machine.Devices.Virtio;

/// <summary>Device-independent feature bits (VIRTIO 1.x §6) that this transport and ring implement.</summary>
internal static class VirtioFeatures
{
    public const ulong IndirectDescriptors = 1UL << 28;
    public const ulong EventIndex = 1UL << 29;
    public const ulong VersionOne = 1UL << 32;
}
