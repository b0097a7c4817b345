using Qmp.Block;
using Qmp.Schema;
using Qmp.Schema.Runtime;

namespace Qmp.Commands.Block;

/// <summary>Turns the block graph's error reports into BLOCK_IO_ERROR events.</summary>
public static class BlockEventBridge
{
    /// <summary>Emits BLOCK_IO_ERROR on <paramref name="sink"/> whenever a backend of <paramref name="graph"/> handles a failed request.</summary>
    public static void Attach(BlockGraph graph, IQmpEventSink sink) => graph.IoError += e => sink.Emit(new BlockIoErrorEvent
    {
        Device = e.Backend.Name,
        NodeName = e.Backend.Root?.NodeName,
        Operation = e.IsRead ? IoOperationType.Read : IoOperationType.Write,
        Action = e.Action switch
        {
            Qmp.Block.Backends.BlockErrorAction.Ignore => Schema.BlockErrorAction.Ignore,
            Qmp.Block.Backends.BlockErrorAction.Stop => Schema.BlockErrorAction.Stop,
            _ => Schema.BlockErrorAction.Report,
        },
        // QEMU includes nospace only where query-block shows an io-status: for devices.
        Nospace = e.Backend.Device is null ? null : e.NoSpace,
        Reason = e.Reason,
    });
}
