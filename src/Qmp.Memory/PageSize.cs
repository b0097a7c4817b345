namespace Qmp.Memory;

/// <summary>The target page size (4 KiB): the unit of dirty tracking, code tracking and TLB entries.</summary>
public static class PageSize
{
    /// <summary>log2 of the page size.</summary>
    public const int Shift = 12;

    /// <summary>Bytes per page.</summary>
    public const int Bytes = 1 << Shift;

    /// <summary>Mask of the offset within a page.</summary>
    public const ulong OffsetMask = Bytes - 1;
}
