namespace Qmp.Block.Jobs;

/// <summary>A command applied to a job (QEMU's JobVerb, in QAPI order).</summary>
public enum JobVerb
{
    /// <summary>job-cancel, block-job-cancel.</summary>
    Cancel,

    /// <summary>job-pause, block-job-pause.</summary>
    Pause,

    /// <summary>job-resume, block-job-resume.</summary>
    Resume,

    /// <summary>block-job-set-speed.</summary>
    SetSpeed,

    /// <summary>job-complete, block-job-complete.</summary>
    Complete,

    /// <summary>job-dismiss, block-job-dismiss.</summary>
    Dismiss,

    /// <summary>job-finalize, block-job-finalize.</summary>
    Finalize,
}
