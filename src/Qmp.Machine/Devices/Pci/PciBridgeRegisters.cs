namespace Qmp.Machine.Devices.Pci;

/// <summary>Offsets and bits of the type-1 (PCI-to-PCI bridge) configuration header (PCI-to-PCI Bridge 1.2, §3.2).</summary>
internal static class PciBridgeRegisters
{
    public const int PrimaryBusRegister = 0x18;
    public const int SecondaryBusRegister = 0x19;
    public const int SubordinateBusRegister = 0x1A;
    public const int SecondaryLatencyTimer = 0x1B;
    public const int IoBase = 0x1C;
    public const int IoLimit = 0x1D;
    public const int SecondaryStatus = 0x1E;
    public const int MemoryBase = 0x20;
    public const int MemoryLimit = 0x22;
    public const int PrefetchableBase = 0x24;
    public const int PrefetchableLimit = 0x26;
    public const int PrefetchableBaseUpper32 = 0x28;
    public const int PrefetchableLimitUpper32 = 0x2C;
    public const int IoBaseUpper16 = 0x30;
    public const int IoLimitUpper16 = 0x32;
    public const int RomAddress = 0x38;
    public const int BridgeControl = 0x3E;

    // Address bits 15:12 of the I/O window in bits 7:4; the low nibble says 16- or 32-bit decoding.
    public const byte IoRangeMask = 0xF0;
    public const byte IoRangeType32 = 0x01;

    // Address bits 31:20 of the memory windows in bits 15:4; the prefetchable low nibble says 32- or 64-bit.
    public const ushort MemoryRangeMask = 0xFFF0;
    public const ushort PrefetchableRangeType64 = 0x0001;

    public const ushort BridgeControlBusReset = 0x0040;

    // QEMU's pci_init_wmask_bridge: everything but the VGA alias and discard status bits.
    public const ushort BridgeControlWritable = 0x0001 | 0x0002 | 0x0004 | 0x0008 | 0x0010 | 0x0020 | 0x0040 | 0x0080 | 0x0100 | 0x0200 | 0x0800;
}
