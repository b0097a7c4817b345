namespace Qmp.Block.Qcow2;

/// <summary>The qcow2 driver's open options (QEMU's <c>BlockdevOptionsQcow2</c> members that apply here).</summary>
public sealed record Qcow2OpenOptions
{
    /// <summary>The defaults: lazy refcounts as the image says, a 32 MiB L2 cache.</summary>
    public static Qcow2OpenOptions Default { get; } = new();

    /// <summary><c>lazy-refcounts</c>: defer refcount updates behind the dirty bit; null = the image's compatible bit.</summary>
    public bool? LazyRefcounts { get; init; }

    /// <summary><c>l2-cache-size</c>: the most bytes of L2 tables kept in memory.</summary>
    public long L2CacheSize { get; init; } = 32L << 20;

    /// <summary><c>pass-discard-request</c>: discard host clusters freed by a guest discard in the file too.</summary>
    public bool PassDiscardRequest { get; init; }

    /// <summary>
    /// Open for <c>qemu-img check -r</c> (QEMU's BDRV_O_CHECK): a corrupt image may be opened read-write and a
    /// dirty one is not repaired at open, so that <see cref="Qcow2Node.CheckAsync"/> sees and fixes it.
    /// </summary>
    public bool OpenForRepair { get; init; }

    /// <summary>Open the node inactive (an incoming migration's image): no header fix-ups are written until it is activated.</summary>
    public bool Inactive { get; init; }
}
