namespace Qmp.Block.Jobs;

/// <summary>
/// What a commit job holds its base by (QEMU's s->base BlockBackend): blockdev-del of the base says it is in use.
/// Drains need nothing from it: the job writes the base only while it is a user of the nodes above, whose drains pause it.
/// </summary>
internal sealed class CommitJobBaseUser(string jobId) : IBlockParent
{
    /// <inheritdoc/>
    public string Description => $"block job '{jobId}' (base)";

    /// <inheritdoc/>
    public void DrainedBegin()
    {
        // The job is paused through the nodes above the base.
    }

    /// <inheritdoc/>
    public void DrainedEnd()
    {
        // As DrainedBegin.
    }

    /// <inheritdoc/>
    public bool DrainedPoll() => false;

    /// <inheritdoc/>
    /// <remarks>The job writes the base (QEMU's base BlockBackend holds the write permission), so the base stays active.</remarks>
    public bool AllowsInactivation => false;
}
