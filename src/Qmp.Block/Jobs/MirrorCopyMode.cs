namespace Qmp.Block.Jobs;

/// <summary>When a mirror copies guest writes to its target (QEMU's MirrorCopyMode).</summary>
public enum MirrorCopyMode
{
    /// <summary>Guest writes only mark the bitmap; the job copies them in the background.</summary>
    Background,

    /// <summary>A guest write completes only once it is also on the target, so the job converges.</summary>
    WriteBlocking,
}
