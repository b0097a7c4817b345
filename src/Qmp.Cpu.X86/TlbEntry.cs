namespace Qmp.Cpu.X86;

/// <summary>
/// One software-TLB entry: the linear page it maps for reads and for writes (a tag of 1 never
/// matches a page address) and the value that turns a linear address into a host pointer.
/// Only RAM is cached here; MMIO, ROM writes, pages holding code and pages under dirty logging
/// take the slow path.
/// </summary>
internal struct TlbEntry
{
    public uint ReadTag;
    public uint WriteTag;
    public nint Addend;

    public const uint Invalid = 1;
}
