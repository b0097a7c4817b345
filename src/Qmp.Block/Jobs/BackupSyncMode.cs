namespace Qmp.Block.Jobs;

/// <summary>What a backup copies (QEMU's MirrorSyncMode as backup takes it).</summary>
public enum BackupSyncMode
{
    /// <summary>top: only what the source's top layer allocates (the target shares the source's backing chain).</summary>
    Top,

    /// <summary>full: the whole disk.</summary>
    Full,

    /// <summary>none: only the old data of what the guest overwrites (image fleecing).</summary>
    None,

    /// <summary>incremental: needs a dirty bitmap, which qmpd does not offer (refused).</summary>
    Incremental,

    /// <summary>bitmap: needs a dirty bitmap, which qmpd does not offer (refused).</summary>
    Bitmap,
}
