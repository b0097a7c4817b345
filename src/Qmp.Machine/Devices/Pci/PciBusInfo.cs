namespace Qmp.Machine.Devices.Pci;

/// <summary>A bridge's bus numbers and forwarding windows in query-pci (QAPI PciBusInfo).</summary>
/// <param name="Number">The primary bus number register (<c>number</c>).</param>
/// <param name="Secondary">The secondary bus number register (<c>secondary</c>).</param>
/// <param name="Subordinate">The subordinate bus number register (<c>subordinate</c>).</param>
/// <param name="IoRange">The I/O window (<c>io_range</c>).</param>
/// <param name="MemoryRange">The memory window (<c>memory_range</c>).</param>
/// <param name="PrefetchableRange">The prefetchable memory window (<c>prefetchable_range</c>).</param>
public sealed record PciBusInfo(int Number, int Secondary, int Subordinate, PciMemoryRange IoRange, PciMemoryRange MemoryRange, PciMemoryRange PrefetchableRange);
