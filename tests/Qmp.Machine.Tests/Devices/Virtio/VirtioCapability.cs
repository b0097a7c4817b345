namespace Qmp.Machine.Tests.Devices.Virtio;

/// <summary>A virtio vendor capability as the driver found it in configuration space.</summary>
internal sealed record VirtioCapability(int At, byte Type, byte Length, byte Bar, uint Offset, uint Size, uint Extra);
