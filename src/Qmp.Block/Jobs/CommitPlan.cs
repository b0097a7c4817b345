namespace Qmp.Block.Jobs;

/// <summary>
/// What block-commit's arguments resolve to (QEMU's qmp_block_commit before it starts a job): the device's
/// root, the top and base of the commit, the overlay above the top (null for an active commit) and the
/// default job id (the drive's name, or "").
/// </summary>
public sealed record CommitPlan(BlockNode Device, BlockNode Top, BlockNode Base, BlockNode? Overlay, string DeviceName)
{
    /// <summary>Whether QEMU makes this an active commit (mirror-based, goes ready): the top is the active layer or has a writer.</summary>
    public bool IsActive => Overlay is null;
}
