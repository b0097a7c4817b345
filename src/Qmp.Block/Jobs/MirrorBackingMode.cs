namespace Qmp.Block.Jobs;

/// <summary>What a mirror does with its target's backing link when it ends (QEMU's BlockMirrorBackingMode).</summary>
public enum MirrorBackingMode
{
    /// <summary>blockdev-mirror: the target's backing is the user's business.</summary>
    Leave,

    /// <summary>drive-mirror, mode absolute-paths: the target gets the source's backing (none mode: the source itself).</summary>
    Source,

    /// <summary>drive-mirror, mode existing: the target opens the backing file its image names.</summary>
    Open,
}
