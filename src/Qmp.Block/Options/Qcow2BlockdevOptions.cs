namespace Qmp.Block.Options;

/// <summary>The <c>qcow2</c> format's options.</summary>
public sealed record Qcow2BlockdevOptions : BlockdevOptions
{
    /// <inheritdoc/>
    public override string Driver => "qcow2";

    /// <summary>The protocol child.</summary>
    public required BlockdevRef File { get; init; }

    /// <summary>The backing child; null with <see cref="NoBacking"/> false means "open what the image names".</summary>
    public BlockdevRef? Backing { get; init; }

    /// <summary>backing: null — open without any backing file.</summary>
    public bool NoBacking { get; init; }

    /// <summary>lazy-refcounts: skip refcount writes while the dirty bit is set (default: as the image says).</summary>
    public bool? LazyRefcounts { get; init; }

    /// <summary>Open for <c>qemu-img check -r</c> (QEMU's BDRV_O_CHECK): see <see cref="Qcow2.Qcow2OpenOptions.OpenForRepair"/>.</summary>
    public bool OpenForRepair { get; init; }
}
