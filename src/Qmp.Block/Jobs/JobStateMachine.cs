namespace Qmp.Block.Jobs;

/// <summary>QEMU's job transition table (job.c JobSTT) and verb table (JobVerbTable).</summary>
public static class JobStateMachine
{
    private static readonly JobStatus[][] s_transitions =
    [
        /* undefined */ [JobStatus.Created],
        /* created   */ [JobStatus.Running, JobStatus.Aborting, JobStatus.Null],
        /* running   */ [JobStatus.Paused, JobStatus.Ready, JobStatus.Waiting, JobStatus.Aborting],
        /* paused    */ [JobStatus.Running],
        /* ready     */ [JobStatus.Standby, JobStatus.Waiting, JobStatus.Aborting],
        /* standby   */ [JobStatus.Ready],
        /* waiting   */ [JobStatus.Pending, JobStatus.Aborting],
        /* pending   */ [JobStatus.Aborting, JobStatus.Concluded],
        /* aborting  */ [JobStatus.Aborting, JobStatus.Concluded],
        /* concluded */ [JobStatus.Null],
        /* null      */ [],
    ];

    private static readonly JobStatus[] s_pauseLike = [JobStatus.Created, JobStatus.Running, JobStatus.Paused, JobStatus.Ready, JobStatus.Standby];

    /// <summary>Whether a job may go from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool CanTransition(JobStatus from, JobStatus to) => Array.IndexOf(s_transitions[(int)from], to) >= 0;

    /// <summary>Whether a job in <paramref name="status"/> accepts <paramref name="verb"/>.</summary>
    public static bool Allows(JobVerb verb, JobStatus status) => verb switch
    {
        JobVerb.Cancel => status is JobStatus.Created or JobStatus.Running or JobStatus.Paused or JobStatus.Ready
            or JobStatus.Standby or JobStatus.Waiting or JobStatus.Pending,
        JobVerb.Pause or JobVerb.Resume or JobVerb.SetSpeed => Array.IndexOf(s_pauseLike, status) >= 0,
        JobVerb.Complete => status is JobStatus.Ready or JobStatus.Standby,
        JobVerb.Finalize => status == JobStatus.Pending,
        JobVerb.Dismiss => status == JobStatus.Concluded,
        _ => false,
    };

    /// <summary>The QAPI name of a status ("running").</summary>
    public static string Name(JobStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>The QAPI name of a verb ("set-speed").</summary>
    public static string Name(JobVerb verb) => verb == JobVerb.SetSpeed ? "set-speed" : verb.ToString().ToLowerInvariant();

    /// <summary>QEMU's refusal when <paramref name="verb"/> does not apply in <paramref name="status"/>.</summary>
    public static string Refusal(string id, JobStatus status, JobVerb verb) =>
        $"Job '{id}' in state '{Name(status)}' cannot accept command verb '{Name(verb)}'";
}
