namespace Qmp.Block.Jobs;

/// <summary>
/// The mirror's hold on its target (QEMU's job BlockBackend on the target): blockdev-del of the target says
/// it is in use, as QEMU's does, rather than naming the job; drained sections of the target pause the job.
/// </summary>
internal sealed class MirrorTargetUser(Job job) : IBlockParent
{
    private readonly IBlockParent _job = job;

    /// <inheritdoc/>
    public string Description => $"block job '{job.Id}' (target)";

    /// <summary>The job writing to the target.</summary>
    public Job Job => job;

    /// <inheritdoc/>
    public void DrainedBegin() => _job.DrainedBegin();

    /// <inheritdoc/>
    public void DrainedEnd() => _job.DrainedEnd();

    /// <inheritdoc/>
    public bool DrainedPoll() => _job.DrainedPoll();
}
