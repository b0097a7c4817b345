namespace Qmp.Block;

/// <summary>
/// Whether a node may be written (QEMU's BDRV_O_INACTIVE, made a tri-state after QEMU's lesson in
/// 403d18ae): a node is marked <see cref="Inactivating"/> before its caches are flushed and its locks
/// released, and stays so if that fails, so nothing treats a half-inactivated node as active.
/// </summary>
public enum BlockActivation
{
    /// <summary>The node serves reads and writes and holds its image locks.</summary>
    Active,

    /// <summary>Inactivation started (or failed part way): writes are refused, activation may be retried.</summary>
    Inactivating,

    /// <summary>Flushed, caches dropped, write locks released: another process may own the image.</summary>
    Inactive,
}
