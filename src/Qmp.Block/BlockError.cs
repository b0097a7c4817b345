namespace Qmp.Block;

/// <summary>The errno-like cause of a failed block request, as QEMU reports it (BLOCK_IO_ERROR's reason, io-status).</summary>
public enum BlockError
{
    /// <summary>EIO: the request failed (a host I/O error, or a corrupt image).</summary>
    Io,

    /// <summary>ENOSPC: the host ran out of space (werror=enospc stops only on this).</summary>
    NoSpace,

    /// <summary>EPERM/EACCES: the node refuses the request (read-only or inactive).</summary>
    Permission,

    /// <summary>EINVAL: the request lies outside the node or is malformed.</summary>
    Invalid,

    /// <summary>ENOTSUP: the driver cannot do this (a compressed cluster write, an unsupported feature).</summary>
    NotSupported,
}
