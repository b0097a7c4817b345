using Qmp.Block.Backends;
using Qmp.Block.Options;

namespace Qmp.Daemon;

/// <summary>A -blockdev (no <see cref="DriveId"/>) or -drive (a named backend) to open before the board is built.</summary>
internal sealed record BlockSpec(string Option, BlockdevOptions Options, string? DriveId)
{
    /// <summary>-drive rerror=.</summary>
    public BlockErrorPolicy ReadErrorPolicy { get; init; } = BlockErrorPolicy.Report;

    /// <summary>-drive werror=.</summary>
    public BlockErrorPolicy WriteErrorPolicy { get; init; } = BlockErrorPolicy.Enospc;
}
