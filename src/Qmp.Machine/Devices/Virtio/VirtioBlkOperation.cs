namespace Qmp.Machine.Devices.Virtio;

/// <summary>What a virtio-blk request asks of the block backend.</summary>
internal enum VirtioBlkOperation
{
    Read,
    Write,
    Flush,
    Discard,
    WriteZeroes,
}
