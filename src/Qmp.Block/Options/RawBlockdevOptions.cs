namespace Qmp.Block.Options;

/// <summary>The <c>raw</c> format's options.</summary>
public sealed record RawBlockdevOptions : BlockdevOptions
{
    /// <inheritdoc/>
    public override string Driver => "raw";

    /// <summary>The protocol child.</summary>
    public required BlockdevRef File { get; init; }

    /// <summary>Where the guest's window starts in the file.</summary>
    public long Offset { get; init; }

    /// <summary>The window's size (default: to the end of the file).</summary>
    public long? Size { get; init; }
}
