namespace Qmp.Block.Jobs;

/// <summary>blockdev-create for the <c>file</c> driver (QEMU's BlockdevCreateOptionsFile).</summary>
public sealed record CreateJobFileOptions : CreateJobOptions
{
    /// <summary>The host file to create (or truncate).</summary>
    public required string Filename { get; init; }

    /// <summary>nocow: turn off copy-on-write (btrfs; ignored where the filesystem has no such flag).</summary>
    public bool NoCow { get; init; }

    /// <summary>extent-size-hint in bytes (XFS); null: QEMU's default of 1 MiB, whose failure is not reported.</summary>
    public ulong? ExtentSizeHint { get; init; }
}
