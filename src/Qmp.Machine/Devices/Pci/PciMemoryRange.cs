namespace Qmp.Machine.Devices.Pci;

/// <summary>
/// A bridge window in query-pci (QAPI PciMemoryRange): the decoded base and limit, inclusive. A window whose
/// base is above its limit forwards nothing (the reset state: QEMU reports base 0xF000 and limit 0xFFF for I/O).
/// </summary>
/// <param name="Base">The first address (<c>base</c>).</param>
/// <param name="Limit">The last address (<c>limit</c>).</param>
public sealed record PciMemoryRange(long Base, long Limit);
