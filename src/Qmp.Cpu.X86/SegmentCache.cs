namespace Qmp.Cpu.X86;

/// <summary>
/// A segment register with its hidden descriptor cache. <see cref="Attributes"/> holds descriptor
/// bits 40..55 (type, S, DPL, P, AVL, D/B, G) as the descriptor stores them.
/// </summary>
internal struct SegmentCache
{
    public ushort Selector;
    public uint Base;

    /// <summary>Limit in bytes (granularity applied).</summary>
    public uint Limit;
    public ushort Attributes;

    /// <summary>True when base is 0, limit 4 GiB and expand-up: no checks are needed.</summary>
    public bool Flat;

    public const ushort Present = 1 << 7;
    public const ushort System = 1 << 4;
    public const ushort Big = 1 << 14;
    public const ushort Granularity = 1 << 15;

    public readonly int Dpl => (Attributes >> 5) & 3;

    public readonly bool IsPresent => (Attributes & Present) != 0;

    /// <summary>D/B bit: 32-bit default operand size for code, 32-bit stack pointer for stacks.</summary>
    public readonly bool Is32 => (Attributes & Big) != 0;

    public readonly int Type => Attributes & 0xF;

    public readonly bool IsCode => (Attributes & System) != 0 && (Attributes & 0x8) != 0;

    public readonly bool IsExpandDown => (Attributes & System) != 0 && (Attributes & 0xC) == 0x4;

    public readonly bool IsWritableData => (Attributes & System) != 0 && (Attributes & 0xA) == 0x2;

    public readonly bool IsReadable => (Attributes & System) != 0 && ((Attributes & 0x8) == 0 || (Attributes & 0x2) != 0);

    public void UpdateFlat() => Flat = Base == 0 && Limit == 0xFFFFFFFF && !IsExpandDown;

    /// <summary>A real-mode (or VM86) segment: base = selector × 16, 64 KiB limit, writable data.</summary>
    public void LoadReal(ushort selector, ushort attributes = 0x93)
    {
        Selector = selector;
        Base = (uint)selector << 4;
        Limit = 0xFFFF;
        Attributes = attributes;
        Flat = false;
    }
}
