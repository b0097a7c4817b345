namespace Qmp.Block.Options;

/// <summary>A child given either by the name of an existing node or inline (QEMU's BlockdevRef).</summary>
public sealed record BlockdevRef
{
    /// <summary>The name of an existing node.</summary>
    public string? Reference { get; init; }

    /// <summary>Options of a new node opened as the child.</summary>
    public BlockdevOptions? Definition { get; init; }

    /// <summary>A reference to the node named <paramref name="nodeName"/>.</summary>
    public static BlockdevRef To(string nodeName) => new() { Reference = nodeName };

    /// <summary>A child opened from <paramref name="options"/>.</summary>
    public static BlockdevRef Inline(BlockdevOptions options) => new() { Definition = options };
}
