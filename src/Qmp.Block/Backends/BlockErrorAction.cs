namespace Qmp.Block.Backends;

/// <summary>What a failed guest request leads to (QEMU's BlockErrorAction, as BLOCK_IO_ERROR names it).</summary>
public enum BlockErrorAction
{
    /// <summary>Complete the request with an error the guest sees.</summary>
    Report,

    /// <summary>Complete the request as if it had succeeded.</summary>
    Ignore,

    /// <summary>Stop the machine (run state io-error) and keep the request to retry on <c>cont</c>.</summary>
    Stop,
}
