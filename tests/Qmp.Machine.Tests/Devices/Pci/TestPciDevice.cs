using Qmp.Machine.Devices;
using Qmp.Machine.Devices.Pci;
using Qmp.Memory;

namespace Qmp.Machine.Tests.Devices.Pci;

/// <summary>
/// A PCI function for tests: BARs and capabilities from its init lists, an optional fixed legacy
/// port region (the kind of resource whose mapping can fail at realize), and injectable failures.
/// </summary>
internal sealed class TestPciDevice : PciDevice
{
    public override string TypeName => "test-pci";

    public byte Pin { get; init; } = 1;

    public ushort ClassCode { get; init; } = 0x0200;

    public List<(int Index, ulong Size, PciBarType Type)> Bars { get; init; } = [];

    public List<(byte Id, byte[] Body)> Capabilities { get; init; } = [];

    /// <summary>A port the device maps at realize, like an IDE controller's compatibility ports.</summary>
    public ushort? FixedPort { get; init; }

    /// <summary>Registers this BAR after the others, to make realize fail there.</summary>
    public (int Index, ulong Size, PciBarType Type)? BadBar { get; init; }

    public bool FailAtEnd { get; init; }

    public Dictionary<int, BarHandler> Handlers { get; } = [];

    public List<int> CapabilityOffsets { get; } = [];

    public int Resets { get; private set; }

    protected override ushort VendorId => 0x1234;

    protected override ushort DeviceId => 0x11E8;

    protected override ushort ClassId => ClassCode;

    protected override byte InterruptPin => Pin;

    public void Raise() => SetIrq(true);

    public void Lower() => SetIrq(false);

    public void SetStatusBits(ushort bits)
    {
        Config[0x06] |= (byte)bits;
        Config[0x07] |= (byte)(bits >> 8);
    }

    protected override void RealizePci(RealizeScope scope)
    {
        Handlers.Clear();
        CapabilityOffsets.Clear();
        foreach (var (index, size, type) in Bars)
        {
            var handler = new BarHandler(index);
            Handlers[index] = handler;
            RegisterBar(index, MemoryRegion.Io($"test-bar{index}", size, handler), type);
        }
        foreach (var (id, body) in Capabilities)
            CapabilityOffsets.Add(AddCapability(id, body));
        if (FixedPort is { } port)
            scope.MapPorts(port, MemoryRegion.Io("test-legacy", 8, new BarHandler(9)));
        if (BadBar is { } bad)
            RegisterBar(bad.Index, MemoryRegion.Io("test-bad", bad.Size, new BarHandler(bad.Index)), bad.Type);
        if (FailAtEnd)
            throw new DeviceRealizeException("test-pci: injected failure");
    }

    protected override void OnReset() => Resets++;
}
