namespace Qmp.Block;

/// <summary>
/// Something that issues requests to a node from outside the graph (a device's backend, a job, an
/// export), and so must cooperate with drained sections (QEMU's BdrvChildClass drained_* callbacks).
/// </summary>
public interface IBlockParent
{
    /// <summary>How errors and <c>query-*</c> name this user, e.g. "vd0" or a QOM path.</summary>
    string Description { get; }

    /// <summary>A drained section begins: stop issuing new requests. May be called from any thread.</summary>
    void DrainedBegin();

    /// <summary>The last drained section ended: resume, and look again for work that arrived meanwhile.</summary>
    void DrainedEnd();

    /// <summary>Whether requests issued before <see cref="DrainedBegin"/> are still running.</summary>
    bool DrainedPoll();

    /// <summary>
    /// Whether the node may go inactive under this user (QEMU's blk_can_inactivate): true for devices and the
    /// monitor's backends; false for a user that must go on writing, which makes inactivation fail.
    /// </summary>
    bool AllowsInactivation => true;
}
