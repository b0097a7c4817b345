namespace Qmp.Block;

/// <summary>One internal snapshot of an image (QEMU's SnapshotInfo).</summary>
public sealed record BlockSnapshotInfo(
    string Id,
    string Name,
    long VmStateSize,
    long DateSeconds,
    long DateNanoseconds,
    long VmClockNanoseconds,
    long? Icount);
