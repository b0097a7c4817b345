namespace Qmp.Block.Jobs;

/// <summary>A job's place in its lifetime (QEMU's JobStatus, in QAPI order).</summary>
public enum JobStatus
{
    /// <summary>Erroneous default; never visible.</summary>
    Undefined,

    /// <summary>Created, not yet started.</summary>
    Created,

    /// <summary>Working.</summary>
    Running,

    /// <summary>Running but paused (by the user or a drained section).</summary>
    Paused,

    /// <summary>Waiting for the user to complete it (mirror, active commit).</summary>
    Ready,

    /// <summary>Ready but paused.</summary>
    Standby,

    /// <summary>Work done; waiting for the other jobs of its transaction.</summary>
    Waiting,

    /// <summary>Work done; graph changes not yet made (waits for job-finalize without auto-finalize).</summary>
    Pending,

    /// <summary>Failing or cancelled; undoing what it did.</summary>
    Aborting,

    /// <summary>Finished; waits for job-dismiss without auto-dismiss.</summary>
    Concluded,

    /// <summary>Being dismantled.</summary>
    Null,
}
