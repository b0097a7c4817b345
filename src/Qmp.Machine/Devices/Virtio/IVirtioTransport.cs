using Qmp.Memory;

namespace Qmp.Machine.Devices.Virtio;

/// <summary>What a virtio device needs from the bus binding it sits on.</summary>
internal interface IVirtioTransport
{
    /// <summary>Guest memory the rings and buffers live in.</summary>
    AddressSpace Memory { get; }

    /// <summary>Drives the interrupt to <paramref name="level"/> (INTx follows ISR bit 0).</summary>
    void UpdateInterrupt(bool level);
}
