namespace Qmp.Block.Jobs;

/// <summary>What a mirror copies before it goes ready (QEMU's MirrorSyncMode, without the bitmap modes 7.2 refuses).</summary>
public enum MirrorSyncMode
{
    /// <summary>What the top image allocates; the target is expected to share the source's backing chain.</summary>
    Top,

    /// <summary>The whole disk as the guest sees it.</summary>
    Full,

    /// <summary>Only what is written from now on; the target is expected to be backed by the source.</summary>
    None,
}
