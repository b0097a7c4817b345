using Qmp.Block;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Block;

/// <summary>Turns the graph's job events into JOB_STATUS_CHANGE and BLOCK_JOB_* events.</summary>
public static class JobEventBridge
{
    /// <summary>Emits the job events of <paramref name="graph"/> on <paramref name="sink"/>.</summary>
    public static void Attach(BlockGraph graph, IQmpEventSink sink)
    {
        var jobs = graph.Jobs;
        jobs.StatusChanged += (job, status) => sink.Emit(new JobStatusChangeEvent { Id = job.Id, Status = JobMapping.Status(status) });
        // blockdev-create's job is no block job: it has only JOB_STATUS_CHANGE.
        jobs.Completed += job => EmitIfBlockJob(job, sink, () => new BlockJobCompletedEvent
        {
            Type = JobMapping.Type(job),
            Device = job.Id,
            Len = job.TotalProgress,
            Offset = job.CurrentProgress,
            Speed = job.Speed,
            Error = job.Error,
        });
        jobs.Cancelled += job => EmitIfBlockJob(job, sink, () => new BlockJobCancelledEvent
        {
            Type = JobMapping.Type(job),
            Device = job.Id,
            Len = job.TotalProgress,
            Offset = job.CurrentProgress,
            Speed = job.Speed,
        });
        jobs.Ready += job => EmitIfBlockJob(job, sink, () => new BlockJobReadyEvent
        {
            Type = JobMapping.Type(job),
            Device = job.Id,
            Len = job.TotalProgress,
            Offset = job.CurrentProgress,
            Speed = job.Speed,
        });
        jobs.Pending += job => EmitIfBlockJob(job, sink, () => new BlockJobPendingEvent { Type = JobMapping.Type(job), Id = job.Id });
        jobs.Error += (job, isRead, action) => EmitIfBlockJob(job, sink, () => new BlockJobErrorEvent
        {
            Device = job.Id,
            Operation = isRead ? IoOperationType.Read : IoOperationType.Write,
            Action = action switch
            {
                Qmp.Block.Backends.BlockErrorAction.Ignore => Schema.BlockErrorAction.Ignore,
                Qmp.Block.Backends.BlockErrorAction.Stop => Schema.BlockErrorAction.Stop,
                _ => Schema.BlockErrorAction.Report,
            },
        });
    }

    private static void EmitIfBlockJob(Qmp.Block.Jobs.Job job, IQmpEventSink sink, Func<IQmpEvent> create)
    {
        if (job.IsBlockJob)
            sink.Emit(create());
    }
}
