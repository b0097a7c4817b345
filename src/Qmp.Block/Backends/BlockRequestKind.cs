namespace Qmp.Block.Backends;

/// <summary>The accounting classes of requests (QEMU's BLOCK_ACCT_*).</summary>
internal enum BlockRequestKind
{
    Read,
    Write,
    Flush,
    Unmap,
}
