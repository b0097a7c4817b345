namespace Qmp.Block;

/// <summary>What a request that changes a node's contents does (what write notifiers are told).</summary>
public enum BlockWriteKind
{
    /// <summary>A write of data (<see cref="BlockWriteRequest.Data"/> holds it).</summary>
    Write,

    /// <summary>A write-zeroes.</summary>
    WriteZeroes,

    /// <summary>A discard: the range may read back as anything afterwards.</summary>
    Discard,

    /// <summary>A resize to <see cref="BlockWriteRequest.Offset"/> bytes (block_resize).</summary>
    Truncate,
}
