namespace Qmp.Machine.Devices.Pci;

/// <summary>The type bits of a base address register, as they read back in its low bits.</summary>
[Flags]
public enum PciBarType
{
    /// <summary>A 32-bit memory BAR.</summary>
    Memory = 0x00,

    /// <summary>An I/O BAR (port space).</summary>
    Io = 0x01,

    /// <summary>A 64-bit memory BAR, which also takes the next BAR register.</summary>
    Memory64 = 0x04,

    /// <summary>A prefetchable memory BAR.</summary>
    Prefetchable = 0x08,
}
