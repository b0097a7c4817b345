namespace Qmp.Block.Backends;

/// <summary>A guest request failed (QEMU's BLOCK_IO_ERROR): which backend, which operation, and what the policy chose.</summary>
public sealed record BlockIoErrorEventArgs(
    BlockBackend Backend,
    bool IsRead,
    BlockErrorAction Action,
    bool NoSpace,
    string Reason);
