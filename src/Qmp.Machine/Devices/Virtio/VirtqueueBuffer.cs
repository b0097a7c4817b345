namespace Qmp.Machine.Devices.Virtio;

/// <summary>One guest buffer of a virtqueue element: a guest-physical address and a length.</summary>
public readonly record struct VirtqueueBuffer(ulong Address, uint Length);
