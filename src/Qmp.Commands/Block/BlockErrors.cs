using Qmp.Block;
using Qmp.Block.Jobs;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Block;

/// <summary>The one mapping of block-layer refusals to QMP errors, shared by the block and job handlers.</summary>
internal static class BlockErrors
{
    /// <summary>
    /// Runs <paramref name="operation"/>; job refusals keep their class (DeviceNotActive for block-job-* on unknown
    /// ids), other block-layer refusals are GenericError with the first line of their text (QEMU's hint lines stay out).
    /// </summary>
    public static async ValueTask RunAsync(Func<Task> operation)
    {
        try
        {
            await operation().ConfigureAwait(false);
        }
        catch (JobException e)
        {
            throw new QmpErrorException(e.DeviceNotActive ? QmpErrorClass.DeviceNotActive : QmpErrorClass.GenericError, e.Message);
        }
        catch (Exception e) when (e is BlockGraphException or BlockException)
        {
            throw QmpErrorException.Generic(BlockException.Summary(e));
        }
    }
}
