namespace Qmp.Machine.Devices.FwCfg;

/// <summary>One item's bytes; only writable files accept DMA writes (QEMU's allow_write).</summary>
internal sealed class FwCfgEntry(byte[] data, bool writable)
{
    public byte[] Data { get; } = data;

    public bool Writable { get; } = writable;
}
