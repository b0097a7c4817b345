using Qmp.Block.Jobs;

namespace Qmp.Block.Tests.Jobs;

/// <summary>QEMU's transition and verb tables, cell by cell (job.c JobSTT and JobVerbTable).</summary>
public sealed class JobStateMachineTests
{
    // Rows of job.c's JobSTT: U C R P Y S W D X E N.
    private static readonly Dictionary<JobStatus, string> s_stt = new()
    {
        [JobStatus.Undefined] = "0 1 0 0 0 0 0 0 0 0 0",
        [JobStatus.Created] = "0 0 1 0 0 0 0 0 1 0 1",
        [JobStatus.Running] = "0 0 0 1 1 0 1 0 1 0 0",
        [JobStatus.Paused] = "0 0 1 0 0 0 0 0 0 0 0",
        [JobStatus.Ready] = "0 0 0 0 0 1 1 0 1 0 0",
        [JobStatus.Standby] = "0 0 0 0 1 0 0 0 0 0 0",
        [JobStatus.Waiting] = "0 0 0 0 0 0 0 1 1 0 0",
        [JobStatus.Pending] = "0 0 0 0 0 0 0 0 1 1 0",
        [JobStatus.Aborting] = "0 0 0 0 0 0 0 0 1 1 0",
        [JobStatus.Concluded] = "0 0 0 0 0 0 0 0 0 0 1",
        [JobStatus.Null] = "0 0 0 0 0 0 0 0 0 0 0",
    };

    // Rows of job.c's JobVerbTable: U C R P Y S W D X E N.
    private static readonly Dictionary<JobVerb, string> s_verbs = new()
    {
        [JobVerb.Cancel] = "0 1 1 1 1 1 1 1 0 0 0",
        [JobVerb.Pause] = "0 1 1 1 1 1 0 0 0 0 0",
        [JobVerb.Resume] = "0 1 1 1 1 1 0 0 0 0 0",
        [JobVerb.SetSpeed] = "0 1 1 1 1 1 0 0 0 0 0",
        [JobVerb.Complete] = "0 0 0 0 1 1 0 0 0 0 0",
        [JobVerb.Finalize] = "0 0 0 0 0 0 0 1 0 0 0",
        [JobVerb.Dismiss] = "0 0 0 0 0 0 0 0 0 1 0",
    };

    [Fact]
    public void Every_transition_matches_QEMUs_table()
    {
        foreach (var from in Enum.GetValues<JobStatus>())
        {
            var row = s_stt[from].Split(' ');
            foreach (var to in Enum.GetValues<JobStatus>())
                Assert.True(row[(int)to] == "1" == JobStateMachine.CanTransition(from, to), $"{from} -> {to}");
        }
    }

    [Fact]
    public void Every_verb_in_every_state_matches_QEMUs_table()
    {
        foreach (var verb in Enum.GetValues<JobVerb>())
        {
            var row = s_verbs[verb].Split(' ');
            foreach (var status in Enum.GetValues<JobStatus>())
                Assert.True(row[(int)status] == "1" == JobStateMachine.Allows(verb, status), $"{verb} in {status}");
        }
    }

    [Fact]
    public void Refusal_text_is_QEMUs()
    {
        Assert.Equal("Job 'j0' in state 'running' cannot accept command verb 'set-speed'",
            JobStateMachine.Refusal("j0", JobStatus.Running, JobVerb.SetSpeed));
    }
}
