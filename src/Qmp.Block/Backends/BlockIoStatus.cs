namespace Qmp.Block.Backends;

/// <summary>A backend's I/O status (query-block's <c>io-status</c>): ok until a request stops the machine.</summary>
public enum BlockIoStatus
{
    /// <summary>ok.</summary>
    Ok,

    /// <summary>failed: an error other than ENOSPC stopped the machine.</summary>
    Failed,

    /// <summary>nospace: ENOSPC stopped the machine.</summary>
    NoSpace,
}
