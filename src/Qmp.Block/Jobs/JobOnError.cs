namespace Qmp.Block.Jobs;

/// <summary>What a job does when one of its requests fails (QEMU's BlockdevOnError for jobs).</summary>
public enum JobOnError
{
    /// <summary>Fail the job.</summary>
    Report,

    /// <summary>Report BLOCK_JOB_ERROR and go on.</summary>
    Ignore,

    /// <summary>Like <see cref="Stop"/> when the host is out of space, like <see cref="Report"/> otherwise.</summary>
    Enospc,

    /// <summary>Pause the job (as a user pause) until job-resume, then retry.</summary>
    Stop,
}
