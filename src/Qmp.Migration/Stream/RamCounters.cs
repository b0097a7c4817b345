namespace Qmp.Migration.Stream;

/// <summary>Page counts of RAM records written or read (query-migrate's duplicate, normal, normal-bytes).</summary>
internal sealed class RamCounters
{
    /// <summary>Zero pages (QEMU's duplicate).</summary>
    public long Zero;

    /// <summary>Pages sent with their data.</summary>
    public long Normal;
}
