using Qmp.Memory;

namespace Qmp.Machine.Tests.Devices.Pci;

/// <summary>A BAR's registers: reads answer a value naming the BAR, writes are logged.</summary>
internal sealed class BarHandler(int index) : IIoHandler
{
    public ulong Signature => 0xBA00UL + (ulong)index;

    public List<(ulong Offset, ulong Value)> Writes { get; } = [];

    public ulong Read(ulong offset, int size) => Signature;

    public void Write(ulong offset, int size, ulong value) => Writes.Add((offset, value));
}
