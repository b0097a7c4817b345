using Qmp.Block.Jobs;
using Qmp.Schema;

namespace Qmp.Commands.Block;

/// <summary>Maps the block layer's job types to the QAPI ones and back.</summary>
internal static class JobMapping
{
    public static Schema.JobType Type(Job job) => JobTypeWire.Parse(job.Type) ?? throw new InvalidOperationException($"job type '{job.Type}' is not in the schema");

    // Both enums follow QAPI's order.
    public static Schema.JobStatus Status(Qmp.Block.Jobs.JobStatus status) => (Schema.JobStatus)(int)status;

    public static JobOptions Options(long? speed, BlockdevOnError? onError, bool? autoFinalize, bool? autoDismiss) => new()
    {
        Speed = speed ?? 0,
        OnError = onError switch
        {
            BlockdevOnError.Ignore => JobOnError.Ignore,
            BlockdevOnError.Enospc => JobOnError.Enospc,
            BlockdevOnError.Stop => JobOnError.Stop,
            _ => JobOnError.Report,
        },
        AutoFinalize = autoFinalize ?? true,
        AutoDismiss = autoDismiss ?? true,
    };
}
