namespace Qmp.Img;

/// <summary>One line of <c>qemu-img map</c> (its MapEntry): a run of guest bytes with the same status at the same depth of the chain.</summary>
internal sealed record MapEntry(long Start, long Length, bool Data, bool Zero, bool Present, int Depth, long? Offset, string? Filename)
{
    /// <summary>entry_mergeable: <paramref name="next"/> continues this entry (same flags, depth and file, contiguous offsets).</summary>
    public bool CanMerge(MapEntry next) =>
        Length > 0
        && Zero == next.Zero && Data == next.Data && Depth == next.Depth && Present == next.Present
        && Filename == next.Filename && Offset.HasValue == next.Offset.HasValue
        && (Offset is not { } offset || offset + Length == next.Offset);
}
