namespace Qmp.Block.Jobs;

/// <summary>blockdev-create's options (QEMU's BlockdevCreateOptions): one record per driver qmpd can create.</summary>
public abstract record CreateJobOptions
{
    /// <summary>The size of the new image in bytes (QAPI 'size': unsigned).</summary>
    public required ulong Size { get; init; }

    /// <summary>preallocation: "off", "metadata", "falloc" or "full" (which ones apply depends on the driver).</summary>
    public string Preallocation { get; init; } = "off";
}
