namespace Qmp.Block.Jobs;

/// <summary>drive-mirror's arguments, as the block layer takes them: blockdev-mirror's, with a file name for the target.</summary>
public sealed record DriveMirrorOptions
{
    /// <summary>The mirror's options; <see cref="MirrorJobOptions.Target"/> is the target's file name here.</summary>
    public required MirrorJobOptions Mirror { get; init; }

    /// <summary>format: the target's format (default: probed in mode existing, else the source's).</summary>
    public string? Format { get; init; }

    /// <summary>node-name: the target node's name.</summary>
    public string? NodeName { get; init; }

    /// <summary>mode existing: open the file as it is; otherwise (absolute-paths) create it.</summary>
    public bool Existing { get; init; }
}
