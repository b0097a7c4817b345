namespace Qmp.Block.Options;

/// <summary>The <c>file</c> protocol's options.</summary>
public sealed record FileBlockdevOptions : BlockdevOptions
{
    /// <inheritdoc/>
    public override string Driver => "file";

    /// <summary>The host file or block device.</summary>
    public required string Filename { get; init; }

    /// <summary>locking: "auto" and "on" take QEMU's image locks, "off" does not.</summary>
    public string Locking { get; init; } = "auto";
}
