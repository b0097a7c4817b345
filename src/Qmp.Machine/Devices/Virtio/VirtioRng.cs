using System.Security.Cryptography;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>
/// The entropy device (QEMU's <c>virtio-rng-device</c>, virtio id 4): one request queue of 8; every
/// device-writable buffer the driver offers comes back filled with random bytes. No features, no
/// configuration space. QEMU's rate limit (max-bytes/period) is not modelled; each element gets at most
/// <see cref="MaxBytesPerElement"/> bytes, which the used length reports.
/// </summary>
internal sealed class VirtioRng : VirtioDevice
{
    public const int MaxBytesPerElement = 64 * 1024;

    private const ushort RequestQueueSize = 8;
    private const int ChunkSize = 4096;

    private static readonly ushort[] _queueSizes = [RequestQueueSize];

    public override ushort DeviceType => 4;

    public override IReadOnlyList<ushort> QueueSizes => _queueSizes;

    /// <summary>Where the bytes come from (the host's CSPRNG, as QEMU's rng-builtin); tests substitute a pattern.</summary>
    internal Action<Span<byte>> Entropy { get; set; } = RandomNumberGenerator.Fill;

    protected internal override void OnQueueNotify(SplitVirtqueue queue)
    {
        var pushed = false;
        Span<byte> chunk = stackalloc byte[ChunkSize];
        while (queue.Pop() is { } element)
        {
            var wanted = (int)Math.Min(element.WritableLength, MaxBytesPerElement);
            var written = 0;
            while (written < wanted)
            {
                var piece = chunk[..Math.Min(ChunkSize, wanted - written)];
                Entropy(piece);
                written += element.Write(written, piece);
            }
            pushed |= queue.Push(element, (uint)written);
        }
        if (pushed)
            Notify(queue);
    }
}
