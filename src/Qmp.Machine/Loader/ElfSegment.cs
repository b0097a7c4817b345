namespace Qmp.Machine.Loader;

/// <summary>One PT_LOAD segment: file bytes to place at a physical address, zero-filled up to its memory size.</summary>
public sealed record ElfSegment(uint PhysicalAddress, uint MemorySize, byte[] Data);
